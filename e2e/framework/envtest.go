package framework

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hack/clustertools"
)

// RepoRoot is the repository's root directory, found from this file's path.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CRDPaths are berth's CRDs and the CAPI test CRDs.
func CRDPaths() []string {
	root := RepoRoot()
	return []string{
		filepath.Join(root, "deploy", "crds"),
		filepath.Join(root, "e2e", "framework", "testdata", "capi-crds"),
	}
}

// NewScheme returns a scheme with the built-in kinds, berth's kinds, the CAPI
// core kinds and CRDs.
func NewScheme() *kruntime.Scheme {
	s := kruntime.NewScheme()
	for _, add := range []func(*kruntime.Scheme) error{
		clientgoscheme.AddToScheme, fleetv1alpha1.AddToScheme, clusterv1.AddToScheme, apiextensionsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// Envtest is a running kube-apiserver and etcd with berth's and CAPI's CRDs.
type Envtest struct {
	env *envtest.Environment
	// Config reaches the apiserver as an admin.
	Config *rest.Config
	// Client is a client for Config with NewScheme.
	Client client.Client
	// Scheme is NewScheme().
	Scheme *kruntime.Scheme
}

// StartEnvtest starts a kube-apiserver and etcd from the tools cache and
// installs the CRDs. Call Stop when done, usually from TestMain.
func StartEnvtest() (*Envtest, error) {
	bins, err := clustertools.Locate()
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	env := &envtest.Environment{
		BinaryAssetsDirectory: bins.EnvtestAssets,
		CRDDirectoryPaths:     CRDPaths(),
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating envtest client: %w", err)
	}
	return &Envtest{env: env, Config: cfg, Client: c, Scheme: scheme}, nil
}

// Stop stops the apiserver and etcd and removes their data.
func (e *Envtest) Stop() error {
	return e.env.Stop()
}

// AddUser creates a user with the given groups and returns its config, for
// tests that check authorization.
func (e *Envtest) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding user %s: %w", name, err)
	}
	return u.Config(), nil
}

// WriteKubeconfig writes a kubeconfig for a new user in system:masters to
// path, for a process (such as berth-hub) that runs against this apiserver.
func (e *Envtest) WriteKubeconfig(path, user string) error {
	u, err := e.env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding user %s: %w", user, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig of %s: %w", user, err)
	}
	return os.WriteFile(path, data, 0o600)
}

// RunShortAware is TestMain for a package whose integration tests share one
// envtest apiserver and skip under -short: it starts envtest into *env
// (left nil under -short), runs setup on it when setup is not nil, runs m,
// and stops envtest. It returns the exit code:
//
//	func TestMain(m *testing.M) { flag.Parse(); os.Exit(framework.RunShortAware(m, &env, nil)) }
func RunShortAware(m *testing.M, env **Envtest, setup func(*Envtest) error) int {
	if testing.Short() {
		return m.Run()
	}
	e, err := StartEnvtest()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Starting envtest: %v\n", err)
		return 1
	}
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "Stopping envtest: %v\n", err)
		}
	}()
	*env = e
	if setup != nil {
		if err := setup(e); err != nil {
			fmt.Fprintf(os.Stderr, "Setting up envtest: %v\n", err)
			return 1
		}
	}
	return m.Run()
}
