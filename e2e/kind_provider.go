package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/deploy/install"
	"github.com/berth-io/berth/e2e/framework"
)

// kindClusters are the clusters the kind provider creates.
var kindClusters = []struct {
	name string
	role fleetv1alpha1.MemberRole
}{
	{"mgmt", fleetv1alpha1.RoleManagement},
	{"workload-1", fleetv1alpha1.RoleWorkload},
	{"services-1", fleetv1alpha1.RoleServices},
}

// kindImageTag tags the images built for the kind clusters.
const kindImageTag = "e2e"

// kindImage is the reference of an image the provider builds and loads:
// containerd's normalised form of <name>:e2e.
func kindImage(name string) string { return "docker.io/library/" + name + ":" + kindImageTag }

// KindProvider creates the fleet as kind clusters and installs berth with
// the Helm chart (deploy/charts/berth) and images built from this checkout
// by hack/images (OCI archives, no docker build). It runs where Docker
// allows privileged containers, which kind nodes are: a developer machine
// or a CI runner with Docker, not this project's sandboxed machines.
//
// The hub runs in mgmt and hands spokes the address of mgmt's
// control-plane container on the kind Docker network
// (install.KindHubServer): the address kind nodes reach, unlike the
// loopback address of the host's kubeconfig or the in-cluster 10.96.0.1.
type KindProvider struct {
	// Logf logs progress; nil discards it.
	Logf func(string, ...any)

	provider *cluster.Provider
	dir      string
	env      *Env
}

var _ Provider = &KindProvider{}

// Name is "kind".
func (p *KindProvider) Name() string { return "kind" }

func (p *KindProvider) logf(format string, args ...any) {
	if p.Logf != nil {
		p.Logf(format, args...)
	}
}

// Up creates the clusters, builds and loads the images, installs the hub
// and registers the clusters as CAPI Clusters in mgmt.
func (p *KindProvider) Up(ctx context.Context) (*Env, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, errors.New("the kind provider needs docker on PATH")
	}
	dir, err := os.MkdirTemp("", "berth-kind-")
	if err != nil {
		return nil, err
	}
	p.dir = dir
	p.provider = cluster.NewProvider()
	env := &Env{Members: map[string]*Member{}, Controls: p}
	var members []*framework.Cluster
	for _, c := range kindClusters {
		kubeconfig := filepath.Join(dir, c.name+".kubeconfig")
		p.logf("Creating kind cluster %s", c.name)
		if err := p.provider.Create("berth-"+c.name, cluster.CreateWithWaitForReady(3*time.Minute),
			cluster.CreateWithKubeconfigPath(kubeconfig), cluster.CreateWithDisplayUsage(false),
			cluster.CreateWithDisplaySalutation(false)); err != nil {
			return nil, fmt.Errorf("creating kind cluster %s: %w", c.name, err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, err
		}
		cl, err := client.New(cfg, client.Options{Scheme: framework.NewScheme()})
		if err != nil {
			return nil, err
		}
		env.Members[c.name] = &Member{Name: c.name, Client: cl, KubeconfigPath: kubeconfig}
		// The hub runs inside mgmt: its CAPI kubeconfigs use the clusters'
		// addresses on the kind network.
		internal, err := p.provider.KubeConfig("berth-"+c.name, true)
		if err != nil {
			return nil, err
		}
		internalPath := filepath.Join(dir, c.name+"-internal.kubeconfig")
		if err := os.WriteFile(internalPath, []byte(internal), 0o600); err != nil {
			return nil, err
		}
		icfg, err := clientcmd.BuildConfigFromFlags("", internalPath)
		if err != nil {
			return nil, err
		}
		members = append(members, &framework.Cluster{Name: c.name, Role: c.role, Endpoint: icfg.Host, KubeconfigPath: internalPath, Config: cfg})
	}
	env.Hub = env.Members["mgmt"].Client
	p.env = env
	if err := p.buildAndLoad(ctx); err != nil {
		return nil, err
	}
	mgmt := env.Members["mgmt"]
	root := framework.RepoRoot()
	capi := filepath.Join(root, "e2e", "framework", "testdata", "capi-crds")
	if out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", mgmt.KubeconfigPath, "apply", "--server-side", "-f", capi).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("kubectl apply %s: %w\n%s", capi, err, out)
	}
	values, err := p.chartValues()
	if err != nil {
		return nil, err
	}
	objs, err := install.Render(ctx, root, values)
	if err != nil {
		return nil, err
	}
	p.logf("Installing the chart into mgmt: %d objects, hub URL %s", len(objs), values["hub"].(map[string]any)["server"])
	if err := install.Apply(ctx, env.Hub, objs); err != nil {
		return nil, err
	}
	if err := framework.RegisterCAPIClusters(ctx, members[0], framework.DevCAPINamespace, members); err != nil {
		return nil, err
	}
	return env, nil
}

// chartValues are the chart values of the kind install: one hub replica
// running the loaded image, handing spokes the kind network address of
// mgmt, and installing the loaded spoke image.
func (p *KindProvider) chartValues() (map[string]any, error) {
	nodes, err := p.provider.ListInternalNodes("berth-mgmt")
	if err != nil {
		return nil, fmt.Errorf("listing the nodes of kind cluster berth-mgmt: %w", err)
	}
	for _, n := range nodes {
		if role, err := n.Role(); err != nil || role != "control-plane" {
			continue
		}
		v4, v6, err := n.IP()
		if err != nil {
			return nil, fmt.Errorf("the address of %s: %w", n.String(), err)
		}
		server, err := install.KindHubServer(v4, v6)
		if err != nil {
			return nil, err
		}
		return install.HubValues(server, install.Images{Hub: kindImage("berth-hub"), Spoke: kindImage("berth-spoke"), PullPolicy: "Never"}, 1), nil
	}
	return nil, errors.New("kind cluster berth-mgmt has no control-plane node")
}

// buildAndLoad builds the hub's and the spoke's images as OCI archives
// (make images) and imports them into every node.
func (p *KindProvider) buildAndLoad(ctx context.Context) error {
	out := filepath.Join(p.dir, "images")
	p.logf("Building the images berth-hub and berth-spoke into %s", out)
	build := exec.CommandContext(ctx, "go", "run", "./hack/images", "--images", "berth-hub,berth-spoke",
		"--version", kindImageTag, "--registry", "docker.io/library", "--arch", runtime.GOARCH, "--out", out)
	build.Dir = framework.RepoRoot()
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the images: %w\n%s", err, b)
	}
	for _, bin := range []string{"berth-hub", "berth-spoke"} {
		archive := filepath.Join(out, bin+".tar")
		for _, c := range kindClusters {
			nodes, err := p.provider.ListInternalNodes("berth-" + c.name)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				f, err := os.Open(archive)
				if err != nil {
					return err
				}
				err = nodeutils.LoadImageArchive(n, f)
				_ = f.Close()
				if err != nil {
					return fmt.Errorf("loading %s into %s: %w", archive, n.String(), err)
				}
			}
		}
	}
	return nil
}

// Down deletes the kind clusters.
func (p *KindProvider) Down(context.Context) error {
	var errs []error
	for _, c := range kindClusters {
		if p.provider != nil {
			errs = append(errs, p.provider.Delete("berth-"+c.name, ""))
		}
	}
	if p.dir != "" {
		errs = append(errs, os.RemoveAll(p.dir))
	}
	return errors.Join(errs...)
}

// KillHub deletes the hub's pods without a grace period.
func (p *KindProvider) KillHub(ctx context.Context) error {
	return p.env.Hub.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace("berth-system"),
		client.MatchingLabels{"app.kubernetes.io/name": "berth-hub"}, client.GracePeriodSeconds(0))
}

// StartHub is a no-op: the Deployment replaces killed pods.
func (p *KindProvider) StartHub(context.Context) error { return nil }

// InstallOperators is not available on kind: the operator emulators of
// e2e/framework/operators run only with the kwok provider; on kind clusters
// install the real operators (their Helm charts or manifests) instead.
func (p *KindProvider) InstallOperators(_ context.Context, member string) error {
	return fmt.Errorf("kind provider: cannot install operators into %s: the emulators run only with the kwok provider; install the real Zalando, Spotahome and RabbitMQ operators into the kind cluster instead", member)
}

// StopSpoke scales the member's spoke Deployment to zero.
func (p *KindProvider) StopSpoke(ctx context.Context, member string) error {
	return p.scaleSpoke(ctx, member, 0)
}

// StartSpoke scales the member's spoke Deployment back to one.
func (p *KindProvider) StartSpoke(ctx context.Context, member string) error {
	return p.scaleSpoke(ctx, member, 1)
}

func (p *KindProvider) scaleSpoke(ctx context.Context, member string, replicas int32) error {
	m, ok := p.env.Members[member]
	if !ok {
		return fmt.Errorf("unknown member %q", member)
	}
	d := &appsv1.Deployment{}
	if err := m.Client.Get(ctx, client.ObjectKey{Namespace: "berth-system", Name: "berth-spoke"}, d); err != nil {
		return fmt.Errorf("reading the spoke Deployment of %s: %w", member, err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To(replicas)
	return m.Client.Patch(ctx, d, patch)
}
