package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/deploy/samples"
	"github.com/berth-io/berth/hack/clustertools"
)

// Chart and tool locations, relative to the repository root.
const (
	ChartDir = "deploy/charts/berth"
	toolsMod = "hack/tools/go.mod"
	// Namespace is where the chart is installed.
	Namespace = "berth-system"
	// Release names the Helm release.
	Release = "berth"
	// FieldManager applies the rendered objects.
	FieldManager = "berth-install"
)

// Images are the images a hub install runs.
type Images struct {
	// Hub and Spoke are full references.
	Hub, Spoke string
	// PullPolicy of the hub's container; empty: the chart's default.
	PullPolicy string
}

// HubValues are the chart values of a hub that installs Spoke into Cluster
// API members and hands them server as the hub URL.
func HubValues(server string, images Images, replicas int) map[string]any {
	repo, tag := splitRef(images.Hub)
	hubImage := map[string]any{"repository": repo, "tag": tag}
	if images.PullPolicy != "" {
		hubImage["pullPolicy"] = images.PullPolicy
	}
	return map[string]any{
		"hub": map[string]any{
			"server":     server,
			"replicas":   replicas,
			"image":      hubImage,
			"spokeImage": map[string]any{"reference": images.Spoke},
		},
	}
}

// splitRef splits repo:tag (the tag after the last colon that follows the
// last slash).
func splitRef(ref string) (string, string) {
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

// KindAPIServerPort is the port of kube-apiserver inside a kind node.
const KindAPIServerPort = 6443

// KindHubServer is the hub URL that pods in other kind clusters reach: the
// address of the management cluster's control-plane container on the kind
// Docker network, and kube-apiserver's port inside it. kubeadm puts that
// address into the serving certificate, so the cluster's CA verifies it.
// The loopback address of the kubeconfig kind writes for the host, and the
// in-cluster Service address (10.96.0.1), are reachable from nowhere else.
func KindHubServer(ipv4, ipv6 string) (string, error) {
	for _, ip := range []string{ipv4, ipv6} {
		if ip == "" {
			continue
		}
		parsed := net.ParseIP(ip)
		if parsed == nil {
			return "", fmt.Errorf("kind node address %q is not an IP address", ip)
		}
		if parsed.IsLoopback() || parsed.IsUnspecified() {
			return "", fmt.Errorf("kind node address %s is not reachable from other containers", ip)
		}
		return "https://" + net.JoinHostPort(ip, strconv.Itoa(KindAPIServerPort)), nil
	}
	return "", errors.New("the kind node has no address on the Docker network")
}

// Render renders the chart from the repository root with values, for the
// Kubernetes version of the local fleet, CRDs included, and decodes the
// objects.
func Render(ctx context.Context, root string, values map[string]any) ([]*unstructured.Unstructured, error) {
	raw, err := yaml.Marshal(values)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "berth-values-*.yaml")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(raw); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile="+toolsMod, "helm", "template", Release, ChartDir,
		"--namespace", Namespace, "--kube-version", clustertools.Versions().Kube, "--include-crds", "--values", f.Name())
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return samples.Decode(out)
}

// Apply applies objs with server-side apply: the Namespace and the CRDs
// first, waiting until the CRDs are established, then the rest in order.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	var first, rest []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "Namespace", "CustomResourceDefinition":
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	for _, o := range first {
		if err := applyOne(ctx, c, o); err != nil {
			return err
		}
	}
	for _, o := range first {
		if o.GetKind() == "CustomResourceDefinition" {
			if err := waitEstablished(ctx, c, o.GetName()); err != nil {
				return err
			}
		}
	}
	for _, o := range rest {
		if err := applyOne(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
	}
	return nil
}

func waitEstablished(ctx context.Context, c client.Client, name string) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		// Unstructured, so any client's scheme will do.
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, raw := range conds {
			cond, _ := raw.(map[string]any)
			if cond["type"] == string(apiextensionsv1.Established) && cond["status"] == string(apiextensionsv1.ConditionTrue) {
				return true, nil
			}
		}
		return false, nil
	})
}

// Find returns the rendered object of a kind and name.
func Find(objs []*unstructured.Unstructured, kind, name string) (*unstructured.Unstructured, error) {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o, nil
		}
	}
	return nil, fmt.Errorf("the chart renders no %s %s", kind, name)
}

// IsNoMatch tells an object whose kind the cluster does not serve.
func IsNoMatch(err error) bool { return meta.IsNoMatchError(err) }

// RepoRoot is the repository root, found from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ChartDir, "Chart.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s above the working directory", ChartDir)
		}
		dir = parent
	}
}
