package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hack/clustertools"
)

// defaultFleet is the local development fleet of `berth-dev dev up` and
// `make demo`.
const defaultFleet = "dev"

// kubeFlags are kubectl's connection flags (--kubeconfig, --context, -n,
// --cluster, --user, --server, --token, --as, ...) plus --fleet, the local
// development fleet used only when no kubeconfig exists at all.
type kubeFlags struct {
	kubeconfig string
	overrides  clientcmd.ConfigOverrides
	fleet      string
}

func (k *kubeFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "Path to the kubeconfig of the hub (the management cluster); default $KUBECONFIG, else ~/.kube/config")
	clientcmd.BindOverrideFlags(&k.overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
	fs.StringVar(&k.fleet, "fleet", defaultFleet, "Local development fleet (berth-dev) whose mgmt cluster is the hub when no kubeconfig exists, or when this flag is given")
}

// hubConn is a client for the hub and where its configuration came from.
type hubConn struct {
	client client.Client
	config *rest.Config
	// host is the apiserver URL.
	host string
	// namespace is the namespace of -n, else the one the kubeconfig context
	// sets; empty when neither sets one.
	namespace string
	// source describes where the configuration came from, for errors.
	source string
}

// NewScheme is the scheme of berthctl's clients: the built-in kinds and
// berth's.
func NewScheme() *kruntime.Scheme {
	s := kruntime.NewScheme()
	// Both only add static types; they cannot fail.
	_ = clientgoscheme.AddToScheme(s)
	_ = fleetv1alpha1.AddToScheme(s)
	return s
}

// homeKubeconfig is ~/.kube/config, for $HOME now (client-go computes it
// once, at start).
func homeKubeconfig() string {
	return filepath.Join(homedir.HomeDir(), clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
}

// ambientKubeconfig reports whether a kubeconfig exists without flags:
// $KUBECONFIG names one, or ~/.kube/config exists.
func ambientKubeconfig() bool {
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "" {
		return true
	}
	_, err := os.Stat(homeKubeconfig())
	return err == nil
}

// connect resolves the hub, in this order:
//  1. --fleet when given: that local fleet's management cluster;
//  2. the kubeconfig flags, else $KUBECONFIG, else ~/.kube/config, as
//     kubectl does;
//  3. only when none of those exists: the local development fleet, if it
//     runs.
func (k *kubeFlags) connect(fleetFlagSet bool) (*hubConn, error) {
	explicit := k.kubeconfig != "" || k.overrides.CurrentContext != "" || k.overrides.ClusterInfo.Server != ""
	if fleetFlagSet || (!explicit && !ambientKubeconfig()) {
		cfg, source, err := fleetHub(k.fleet)
		switch {
		case err == nil:
			return newHubConn(cfg, k.overrides.Context.Namespace, source)
		case fleetFlagSet || !errors.Is(err, errFleetNotRunning):
			return nil, fmt.Errorf("--fleet: %w", err)
		default:
			return nil, fmt.Errorf("no hub to talk to: no kubeconfig is set (--kubeconfig, $KUBECONFIG, ~/.kube/config) and no local fleet %q is running (start one with `make demo`)", k.fleet)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "" {
		rules.Precedence = []string{homeKubeconfig()}
	}
	rules.ExplicitPath = k.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &k.overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		flag := "--kubeconfig"
		if k.overrides.CurrentContext != "" {
			flag = "--context"
		}
		return nil, fmt.Errorf("%s: %s", flag, OneLine(err))
	}
	namespace := k.overrides.Context.Namespace
	if raw, err := cc.RawConfig(); err == nil && namespace == "" {
		name := raw.CurrentContext
		if k.overrides.CurrentContext != "" {
			name = k.overrides.CurrentContext
		}
		if kc := raw.Contexts[name]; kc != nil {
			namespace = kc.Namespace
		}
	}
	source := "kubeconfig " + k.kubeconfig
	if k.kubeconfig == "" {
		source = "the default kubeconfig"
	}
	if k.overrides.CurrentContext != "" {
		source += ", context " + k.overrides.CurrentContext
	}
	return newHubConn(cfg, namespace, source)
}

func newHubConn(cfg *rest.Config, namespace, source string) (*hubConn, error) {
	c, err := client.New(cfg, client.Options{Scheme: NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s (%s): %w", cfg.Host, source, err)
	}
	return &hubConn{client: c, config: cfg, host: cfg.Host, namespace: namespace, source: source}, nil
}

// apiError turns an error of a call to the hub into one line that says
// which hub was asked.
func (h *hubConn) apiError(what string, err error) error {
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: the cluster at %s (%s) serves no berth API (fleet.berth.io/v1alpha1): is it a berth hub?", what, h.host, h.source)
	}
	return fmt.Errorf("%s on %s (%s): %w", what, h.host, h.source, err)
}

// errFleetNotRunning: the local fleet has no state, or is not Running.
var errFleetNotRunning = errors.New("the local fleet is not running")

var fleetName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// fleetState is the part of a local fleet's state file
// (<cache>/fleets/<name>/state.json, written by e2e/framework) that finds
// its management cluster. Reading the file directly keeps the local-fleet
// code out of the shipped CLI.
type fleetState struct {
	Phase string `json:"phase"`
	CAPI  *struct {
		ManagementCluster string `json:"managementCluster"`
	} `json:"capi"`
	Clusters []struct {
		Name       string `json:"name"`
		Kubeconfig string `json:"kubeconfig"`
	} `json:"clusters"`
}

// fleetHub is the management cluster of the named local fleet: the CAPI
// management cluster, else the cluster named mgmt.
func fleetHub(name string) (*rest.Config, string, error) {
	if !fleetName.MatchString(name) || len(name) > 63 {
		return nil, "", fmt.Errorf("fleet name %q must be a DNS-1123 label", name)
	}
	path := filepath.Join(clustertools.CacheDir(), "fleets", name, "state.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("%w: no fleet %q", errFleetNotRunning, name)
	}
	if err != nil {
		return nil, "", err
	}
	st := &fleetState{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, err)
	}
	if st.Phase != "Running" {
		return nil, "", fmt.Errorf("%w: fleet %q is %s", errFleetNotRunning, name, st.Phase)
	}
	mgmt := "mgmt"
	if st.CAPI != nil && st.CAPI.ManagementCluster != "" {
		mgmt = st.CAPI.ManagementCluster
	}
	for _, c := range st.Clusters {
		if c.Name != mgmt {
			continue
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cluster %s: %w", errFleetNotRunning, mgmt, err)
		}
		return cfg, fmt.Sprintf("cluster %s of the local fleet %s", mgmt, name), nil
	}
	return nil, "", fmt.Errorf("fleet %q has no management cluster %q", name, mgmt)
}
