//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/deploy/install"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/hub/spokeinstall"
)

// TestInstallFromChart installs berth the way a platform team does, on a
// fleet of its own (mgmt, and edge-1 registered from Cluster API):
//
//  1. the Helm chart is rendered and every object it renders is applied
//     with server-side apply to mgmt, CRDs included (mgmt starts without
//     berth's CRDs);
//  2. berth-hub runs with exactly the arguments of the rendered
//     Deployment, as the chart's ServiceAccount (impersonated), so the
//     chart's RBAC is what it has. What the kubelet would do is done by
//     hand: the ConfigMaps mounted by the Deployment are written to a
//     directory and the mount paths in the arguments point there, and the
//     in-cluster config is a kubeconfig (--kubeconfig);
//  3. the hub installs the spokes through its installer into both members;
//     each runs with the arguments of the Deployment the hub installed, as
//     the installed ServiceAccount (the RBAC of spokeinstall.Rules()), with
//     the Secret the hub installed as its hub kubeconfig; only the listen
//     addresses move to free loopback ports, since all run on one host;
//  4. both members become Available; the hub is ready and exports the
//     metrics the chart's alerts use; berthctl reads the members as JSON,
//     and as the kubectl plugin `kubectl berth`.
func TestInstallFromChart(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	root := framework.RepoRoot()
	dir := t.TempDir()
	binDir := filepath.Join(dir, "bin")
	g.Expect(framework.BuildBinaries(ctx, binDir, "berth-hub", "berth-spoke", "berthctl")).To(Succeed())

	f := framework.StartTestFleet(t, framework.FleetSpec{
		CAPI: &framework.CAPISpec{ManagementCluster: "mgmt", Namespace: framework.DevCAPINamespace},
		Clusters: []framework.ClusterSpec{
			// Only the CAPI CRDs: berth's come from the chart.
			{Name: "mgmt", Role: fleetv1alpha1.RoleManagement, CRDPaths: []string{filepath.Join(root, "e2e", "framework", "testdata", "capi-crds")},
				NodePools: []framework.NodePool{framework.GeneralPool(1)}},
			{Name: "edge-1", Role: fleetv1alpha1.RoleWorkload, NodePools: []framework.NodePool{framework.GeneralPool(1)}},
		},
	})
	mgmt, err := f.Cluster("mgmt")
	g.Expect(err).NotTo(HaveOccurred())
	hubAdmin, err := mgmt.Client()
	g.Expect(err).NotTo(HaveOccurred())

	// 1. Render and apply.
	metricsPort, healthPort := freePort(t), freePort(t)
	values := install.HubValues(mgmt.Endpoint, install.Images{Hub: "ghcr.io/berth-io/berth-hub:e2e", Spoke: "ghcr.io/berth-io/berth-spoke:e2e"}, 1)
	hubValues := values["hub"].(map[string]any)
	hubValues["metrics"] = map[string]any{"enabled": true, "port": metricsPort}
	hubValues["healthPort"] = healthPort
	hubValues["caBundle"] = string(mgmt.Config.CAData)
	hubValues["exposureSourceCIDRs"] = []string{"198.51.100.0/24"}
	placementRaw, err := os.ReadFile(filepath.Join(root, "placement", "testdata", "placement-config.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	placementConfig := map[string]any{}
	g.Expect(yaml.Unmarshal(placementRaw, &placementConfig)).To(Succeed())
	hubValues["placementConfig"] = placementConfig
	values["monitoring"] = map[string]any{
		"serviceMonitor":   map[string]any{"enabled": true},
		"prometheusRule":   map[string]any{"enabled": true},
		"grafanaDashboard": map[string]any{"enabled": true},
	}
	objs, err := install.Render(ctx, root, values)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(hubAdmin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: install.Namespace}})).To(Succeed())
	// The Prometheus Operator's kinds need its CRDs, which the local
	// fleet lacks; promtool (make verify) checks the rules they carry.
	var operatorKinds []string
	objs = slices.DeleteFunc(objs, func(o *unstructured.Unstructured) bool {
		if o.GroupVersionKind().Group == "monitoring.coreos.com" {
			operatorKinds = append(operatorKinds, o.GetKind())
			return true
		}
		return false
	})
	g.Expect(operatorKinds).To(ConsistOf("ServiceMonitor", "PrometheusRule"))
	g.Expect(install.Apply(ctx, hubAdmin, objs)).To(Succeed(), "every object the chart renders is accepted")
	t.Logf("Applied %d objects of the chart to mgmt (%s not applied: no Prometheus Operator CRDs)", len(objs), strings.Join(operatorKinds, ", "))

	// 2. The hub, with the Deployment's arguments.
	depObj, err := install.Find(objs, "Deployment", "berth-hub")
	g.Expect(err).NotTo(HaveOccurred())
	dep := &appsv1.Deployment{}
	g.Expect(kruntime.DefaultUnstructuredConverter.FromUnstructured(depObj.Object, dep)).To(Succeed())
	container := dep.Spec.Template.Spec.Containers[0]
	podRoot := filepath.Join(dir, "hub-pod")
	args := mountVolumes(t, podRoot, dep.Spec.Template.Spec, container, objs)
	hubKubeconfig := impersonatingKubeconfig(t, mgmt.KubeconfigPath, filepath.Join(dir, "hub.kubeconfig"),
		"system:serviceaccount:"+install.Namespace+":berth-hub", install.Namespace)
	t.Logf("berth-hub %s", strings.Join(args, " "))
	hub, err := framework.StartHostProcess(filepath.Join(binDir, "berth-hub"), filepath.Join(dir, "hub.log"),
		append(slices.Clone(args), "--kubeconfig", hubKubeconfig)...)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(hub.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(dir)
		}
	})
	g.Expect(args).To(ContainElements("--leader-elect", "--hub-server="+mgmt.Endpoint,
		"--spoke-image=ghcr.io/berth-io/berth-spoke:e2e", "--spoke-exposure-source-cidr=198.51.100.0/24"))

	// 3. The spokes the hub installed. The pod's IP, from the downward API
	// in the Deployment, is the loopback address here.
	t.Setenv("POD_IP", "127.0.0.1")
	var spokes []*framework.HostProcess
	t.Cleanup(func() {
		for _, s := range spokes {
			s.Stop()
		}
	})
	for _, member := range []string{"mgmt", "edge-1"} {
		c, err := f.Cluster(member)
		g.Expect(err).NotTo(HaveOccurred())
		admin, err := c.Client()
		g.Expect(err).NotTo(HaveOccurred())
		installed := &appsv1.Deployment{}
		g.Eventually(func() error {
			return admin.Get(ctx, client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.Name}, installed)
		}, 3*time.Minute, time.Second).Should(Succeed(), "the hub installs the spoke into %s", member)
		secret := &corev1.Secret{}
		g.Eventually(func() error {
			return admin.Get(ctx, client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.SecretName}, secret)
		}, time.Minute, time.Second).Should(Succeed())
		sc := installed.Spec.Template.Spec.Containers[0]
		g.Expect(sc.Image).To(Equal("ghcr.io/berth-io/berth-spoke:e2e"))
		g.Expect(sc.Args).To(ContainElement("--exposure-source-cidr=198.51.100.0/24"), "the hub passes its exposure source ranges")
		spokeRoot := filepath.Join(dir, member+"-pod")
		spokeArgs := mountVolumes(t, spokeRoot, installed.Spec.Template.Spec, sc, []*unstructured.Unstructured{toUnstructured(t, secret)})
		spokeArgs = hostListeners(t, spokeArgs)
		kc := impersonatingKubeconfig(t, c.KubeconfigPath, filepath.Join(dir, member+"-spoke.kubeconfig"),
			"system:serviceaccount:"+spokeinstall.Namespace+":"+spokeinstall.Name, spokeinstall.Namespace)
		spokeArgs = append(spokeArgs, "--kubeconfig", kc)
		t.Logf("berth-spoke %s", strings.Join(spokeArgs, " "))
		cmd := filepath.Join(binDir, "berth-spoke")
		s, err := framework.StartHostProcess(cmd, filepath.Join(dir, member+"-spoke.log"), spokeArgs...)
		g.Expect(err).NotTo(HaveOccurred())
		spokes = append(spokes, s)
	}

	// 4. Available, ready, observable.
	g.Expect(WaitForMembersAvailable(ctx, hubAdmin, []string{"mgmt", "edge-1"}, 4*time.Minute)).To(Succeed())
	get := func(path string, port int) (int, string) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	g.Eventually(func() int { code, _ := get("/readyz", healthPort); return code }, time.Minute, time.Second).Should(Equal(http.StatusOK))
	_, metrics := get("/metrics", metricsPort)
	for _, name := range []string{"berth_member_clusters", "berth_member_lease_age_seconds", "controller_runtime_reconcile_total", "workqueue_depth"} {
		g.Expect(metrics).To(ContainSubstring("\n"+name+"{"), "the hub exports %s, which the chart's alerts and dashboard use", name)
	}
	g.Expect(metrics).To(MatchRegexp(`berth_member_clusters\{condition="Available",status="True"\} 2`))

	// berthctl, as itself and as the kubectl plugin.
	pluginDir := filepath.Join(dir, "path")
	g.Expect(os.MkdirAll(pluginDir, 0o755)).To(Succeed())
	g.Expect(os.Symlink(filepath.Join(binDir, "berthctl"), filepath.Join(pluginDir, "kubectl-berth"))).To(Succeed())
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "berthctl"), "get", "members", "-o", "json", "--kubeconfig", mgmt.KubeconfigPath).Output()
	g.Expect(err).NotTo(HaveOccurred())
	list := &fleetv1alpha1.MemberClusterList{}
	g.Expect(json.Unmarshal(out, list)).To(Succeed(), "%s", out)
	g.Expect(list.Items).To(HaveLen(2))
	if _, err := exec.LookPath("kubectl"); err == nil {
		plugin := exec.CommandContext(ctx, "kubectl", "berth", "get", "members", "--kubeconfig", mgmt.KubeconfigPath)
		plugin.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := plugin.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), "%s", out)
		g.Expect(string(out)).To(MatchRegexp(`(?m)^edge-1\s+Workload\s+True\s`))
		g.Expect(string(out)).To(MatchRegexp(`(?m)^mgmt\s+Management\s+True\s`))
	} else {
		t.Log("kubectl is not installed: the plugin check is left out")
	}
}

// mountVolumes does the kubelet's part for a container run as a host
// process: it writes the ConfigMaps and Secrets the pod mounts (taken from
// objs) under podRoot+mountPath, and returns the container's arguments with
// each mount path replaced by its place under podRoot. Nothing else in the
// arguments changes.
func mountVolumes(t *testing.T, podRoot string, spec corev1.PodSpec, c corev1.Container, objs []*unstructured.Unstructured) []string {
	t.Helper()
	g := NewWithT(t)
	args := slices.Clone(c.Args)
	for _, m := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == m.Name {
				vol = &spec.Volumes[i]
			}
		}
		g.Expect(vol).NotTo(BeNil(), "volume %s", m.Name)
		data := map[string][]byte{}
		switch {
		case vol.ConfigMap != nil:
			o, err := install.Find(objs, "ConfigMap", vol.ConfigMap.Name)
			g.Expect(err).NotTo(HaveOccurred())
			cm := &corev1.ConfigMap{}
			g.Expect(kruntime.DefaultUnstructuredConverter.FromUnstructured(o.Object, cm)).To(Succeed())
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
		case vol.Secret != nil:
			o, err := install.Find(objs, "Secret", vol.Secret.SecretName)
			g.Expect(err).NotTo(HaveOccurred())
			s := &corev1.Secret{}
			g.Expect(kruntime.DefaultUnstructuredConverter.FromUnstructured(o.Object, s)).To(Succeed())
			data = s.Data
		default:
			t.Fatalf("volume %s: only ConfigMap and Secret volumes are mounted here", m.Name)
		}
		target := filepath.Join(podRoot, m.MountPath)
		g.Expect(os.MkdirAll(target, 0o700)).To(Succeed())
		for k, v := range data {
			g.Expect(os.WriteFile(filepath.Join(target, k), v, 0o600)).To(Succeed())
		}
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "="+m.MountPath+"/", "="+target+"/")
		}
	}
	return args
}

// hostListeners moves the spoke's listeners to free loopback ports: several
// spokes share this host, where a pod would have an address of its own.
func hostListeners(t *testing.T, args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--metrics-bind-address", "--health-probe-bind-address":
			a = name + "=127.0.0.1:" + strconv.Itoa(freePort(t))
		case "--probe-listen":
			a = name + "=127.0.0.1:0"
		}
		out = append(out, a)
	}
	return out
}

// impersonatingKubeconfig writes a copy of an admin kubeconfig that acts as
// user (a ServiceAccount) in the groups every ServiceAccount has.
func impersonatingKubeconfig(t *testing.T, admin, path, user, namespace string) string {
	t.Helper()
	g := NewWithT(t)
	cfg, err := clientcmd.LoadFromFile(admin)
	g.Expect(err).NotTo(HaveOccurred())
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
		a.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	}
	g.Expect(clientcmd.WriteToFile(*cfg, path)).To(Succeed())
	return path
}

func toUnstructured(t *testing.T, obj kruntime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetKind(fmt.Sprintf("%T", obj)[len("*v1."):])
	return u
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
