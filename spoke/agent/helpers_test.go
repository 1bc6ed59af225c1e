package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/spoke/inventory"
	"github.com/berth-io/berth/spoke/work"
)

// hubMember is what the hub would have set up for one member: the
// MemberCluster, its namespace, the spoke identity and its RBAC. The hub's
// registration controller is built elsewhere; this helper writes the same
// objects the hub <-> spoke contract names, so the spoke is tested with
// exactly the permissions it will get.
type hubMember struct {
	name      string
	namespace string
}

// registerOnHub creates the member's hub namespace, ServiceAccount `spoke`,
// Role/RoleBinding and resourceName-restricted ClusterRole/Binding, and the
// MemberCluster with the hub-owned status (field manager berth-hub).
func registerOnHub(ctx context.Context, t *testing.T, hub *framework.Envtest, name string) hubMember {
	t.Helper()
	m := registerIdentity(ctx, t, hub, name)
	createHubMember(ctx, t, hub, m)
	return m
}

// registerIdentity creates everything registerOnHub does except the
// MemberCluster.
func registerIdentity(ctx context.Context, t *testing.T, hub *framework.Envtest, name string) hubMember {
	t.Helper()
	ns := HubNamespacePrefix + name
	c := hub.Client
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{fleetv1alpha1.LabelMember: name}}}))
	must(t, c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spoke"}}))
	read := []string{"get", "list", "watch"}
	must(t, c.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "berth-spoke"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"serviceworks"}, Verbs: read},
			{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"serviceworks/status"}, Verbs: []string{"get", "update", "patch"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"spoke"}, Verbs: []string{"get", "update", "patch"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
			{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		},
	}))
	sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "spoke"}
	must(t, c.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "berth-spoke"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "berth-spoke"},
		Subjects:   []rbacv1.Subject{sa},
	}))
	must(t, c.Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "berth-spoke-" + name},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"memberclusters"}, ResourceNames: []string{name}, Verbs: []string{"get"}},
			{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"memberclusters/status"}, ResourceNames: []string{name}, Verbs: []string{"get", "update", "patch"}},
		},
	}))
	must(t, c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "berth-spoke-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "berth-spoke-" + name},
		Subjects:   []rbacv1.Subject{sa},
	}))
	return hubMember{name: name, namespace: ns}
}

// createHubMember creates the MemberCluster and applies the hub's part of
// its status.
func createHubMember(ctx context.Context, t *testing.T, hub *framework.Envtest, m hubMember) {
	t.Helper()
	c, name, ns := hub.Client, m.name, m.namespace
	must(t, c.Create(ctx, &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       fleetv1alpha1.MemberClusterSpec{Role: fleetv1alpha1.RoleWorkload, Accepted: true},
	}))
	// The hub's own part of the status, applied as the hub would.
	hubStatus := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fleetv1alpha1.GroupVersion.String(),
		"kind":       "MemberCluster",
		"metadata":   map[string]any{"name": name},
		"status": map[string]any{
			"namespace": ns,
			"conditions": []any{map[string]any{
				"type": fleetv1alpha1.ConditionRegistered, "status": "True", "reason": fleetv1alpha1.ReasonClusterProvisioned,
				"message": "registered by the test hub", "lastTransitionTime": "2030-01-01T00:00:00Z",
			}},
		},
	}}
	must(t, c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(hubStatus), client.FieldOwner("berth-hub"), client.ForceOwnership))
}

// spokeToken issues a bound token for the member's spoke ServiceAccount, as
// the hub does for the hub-kubeconfig Secret.
func spokeToken(ctx context.Context, t *testing.T, hub *framework.Envtest, m hubMember) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(hub.Config)
	must(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(m.namespace).CreateToken(ctx, "spoke", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	must(t, err)
	return tr.Status.Token
}

// writeHubKubeconfig writes a kubeconfig for server with the hub's CA and
// token, as the hub-kubeconfig Secret holds it, and returns its path.
func writeHubKubeconfig(t *testing.T, path, server string, hub *framework.Envtest, token string) string {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hub-kubeconfig")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: hub.Config.CAData}
	cfg.AuthInfos["spoke"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["hub"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "spoke"}
	cfg.CurrentContext = "hub"
	// Write then rename, as a kubelet-updated Secret volume does.
	tmp := path + ".tmp"
	must(t, clientcmd.WriteToFile(*cfg, tmp))
	must(t, os.Rename(tmp, path))
	return path
}

// memberSpokeConfig returns a member-cluster config for a user holding only
// the permissions inventory.PolicyRules, NamespacedPolicyRules and
// work.PolicyRules name.
func memberSpokeConfig(ctx context.Context, t *testing.T, member *framework.Envtest, user string) *rest.Config {
	t.Helper()
	c := member.Client
	subject := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}
	rules := append(inventory.PolicyRules(), work.PolicyRules()...)
	must(t, c.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}))
	must(t, c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{subject},
	}))
	must(t, c.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: user}, Rules: inventory.NamespacedPolicyRules()}))
	must(t, c.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
		Subjects:   []rbacv1.Subject{subject},
	}))
	cfg, err := member.AddUser(user)
	must(t, err)
	return cfg
}

// createNode creates a Node and sets its allocatable resources in status, as
// a kubelet would.
func createNode(ctx context.Context, t *testing.T, c client.Client, name string, labels map[string]string, taints []corev1.Taint, cpu, mem, storage string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
	must(t, c.Create(ctx, n))
	alloc := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem),
		corev1.ResourceEphemeralStorage: resource.MustParse(storage), corev1.ResourcePods: resource.MustParse("110"),
	}
	n.Status.Capacity = alloc
	n.Status.Allocatable = alloc
	must(t, c.Status().Update(ctx, n))
}

// appsNamespace holds the test pods in the member cluster.
const appsNamespace = "apps"

// createPod creates a pod in appsNamespace bound to node ("" leaves it
// unbound).
func createPod(ctx context.Context, t *testing.T, c client.Client, name, node string, init, requests corev1.ResourceList) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: appsNamespace, Name: name},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: requests}}},
		},
	}
	if init != nil {
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: init}}}
	}
	must(t, c.Create(ctx, p))
	return p
}

// setPodPhase sets a pod's phase, as its kubelet would.
func setPodPhase(ctx context.Context, t *testing.T, c client.Client, p *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	p.Status.Phase = phase
	must(t, c.Status().Update(ctx, p))
}

// createCRD installs a CRD with one served version and no schema, standing
// in for an operator's CRD.
func createCRD(ctx context.Context, t *testing.T, c client.Client, group, plural, kind string, scope apiextensionsv1.ResourceScope) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind, ListKind: kind + "List", Singular: strings.ToLower(kind)},
			Scope: scope,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true),
				}},
			}},
		},
	}
	must(t, c.Create(ctx, crd))
}

func rl(cpu, mem string) corev1.ResourceList {
	out := corev1.ResourceList{}
	if cpu != "" {
		out[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		out[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// request is one HTTP request a client made, and its outcome.
type request struct {
	method string
	path   string
	query  string
	status int
	err    string
}

func (r request) String() string {
	return fmt.Sprintf("%s %s?%s -> %d %s", r.method, r.path, r.query, r.status, r.err)
}

// recorder records every request made through a rest.Config.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (r *recorder) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			rec := request{method: req.Method, path: req.URL.Path, query: req.URL.RawQuery}
			if err != nil {
				rec.err = err.Error()
			} else {
				rec.status = resp.StatusCode
			}
			r.mu.Lock()
			r.reqs = append(r.reqs, rec)
			r.mu.Unlock()
			return resp, err
		})
	})
	return cfg
}

func (r *recorder) all() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// proxy forwards TCP connections from a fixed loopback port to target. Down
// cuts every connection and stops listening, as a network partition would;
// Up listens on the same port again.
type proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	must(t, p.Up())
	t.Cleanup(p.Down)
	return p
}

// Up starts listening.
func (p *proxy) Up() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln {
				p.mu.Unlock()
				_ = in.Close()
				_ = out.Close()
				return
			}
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go pipe(in, out)
			go pipe(out, in)
		}
	}()
	return nil
}

// Down closes the listener and every forwarded connection.
func (p *proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// URL is the proxy's https URL.
func (p *proxy) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "https://" + p.addr
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

// runAgent starts a in the background and returns a channel that receives
// Start's result; the agent is stopped when the test ends.
func runAgent(t *testing.T, a *Agent) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent returned: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("agent did not stop within 30s")
		}
	})
	return done
}

// testOptions are fast timings for tests.
func testOptions(member string, hubCfg, memberCfg *rest.Config) Options {
	return Options{
		MemberName:             member,
		HubConfig:              hubCfg,
		MemberConfig:           memberCfg,
		LeaseDuration:          3 * time.Second,
		ProbeListen:            "127.0.0.1:0",
		ProbeInterval:          time.Second,
		ProbeTimeout:           500 * time.Millisecond,
		InventoryInterval:      200 * time.Millisecond,
		StatusInterval:         500 * time.Millisecond,
		RetryStart:             100 * time.Millisecond,
		RetryMax:               time.Second,
		MetricsBindAddress:     "0",
		HealthProbeBindAddress: "0",
		AgentVersion:           "v0.0.0-test",
	}
}
