package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/deploy/samples"
	"github.com/berth-io/berth/e2e/framework"
)

// TestGetAndExplainAgainstAnAPIServer applies the real sample set to an
// envtest apiserver (so the CRDs' schema and CEL rules check it), writes the
// status a hub and spokes would write, and runs `berthctl get` and
// `berthctl explain` against it: through --kubeconfig, through $KUBECONFIG
// when no local fleet runs, and with the errors for wrong names and a
// missing hub.
func TestGetAndExplainAgainstAnAPIServer(t *testing.T) {
	g := NewWithT(t)
	env, err := framework.StartEnvtest()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c := env.Client

	dir := t.TempDir()
	admin := filepath.Join(dir, "hub.kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "admin"}
	cfg.Contexts["team"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "admin", Namespace: "team"}
	cfg.CurrentContext = "admin"
	g.Expect(clientcmd.WriteToFile(*cfg, admin)).To(Succeed())
	// No local fleet: the defaults must come from the flags or $KUBECONFIG.
	t.Setenv("BERTH_CACHE_DIR", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")

	objs, err := samples.Load(samples.FS)
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		g.Expect(c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.Obj.DeepCopy()), client.FieldOwner("test"))).To(Succeed(), "%s", o)
	}

	for _, m := range []struct {
		name  string
		role  fleetv1alpha1.MemberRole
		avail metav1.ConditionStatus
	}{
		{"mgmt", fleetv1alpha1.RoleManagement, metav1.ConditionTrue},
		{"services-1", fleetv1alpha1.RoleServices, metav1.ConditionTrue},
		{"workload-1", fleetv1alpha1.RoleWorkload, metav1.ConditionTrue},
		{"workload-2", fleetv1alpha1.RoleWorkload, metav1.ConditionFalse},
	} {
		mc := member(m.name, m.role, m.avail, 0)
		status := mc.Status
		mc.CreationTimestamp = metav1.Time{}
		g.Expect(c.Create(ctx, mc)).To(Succeed())
		mc.Status = status
		g.Expect(c.Status().Update(ctx, mc)).To(Succeed())
	}

	setStatus := func(name string, mutate func(*fleetv1alpha1.ManagedService)) {
		ms := &fleetv1alpha1.ManagedService{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: "team", Name: name}, ms)).To(Succeed())
		mutate(ms)
		g.Expect(c.Status().Update(ctx, ms)).To(Succeed())
	}
	decided := metav1.NewTime(time.Now().Add(-2 * time.Minute).Truncate(time.Second))
	setStatus("cart-cache", func(ms *fleetv1alpha1.ManagedService) {
		ms.Status.ObservedGeneration = ms.Generation
		ms.Status.Conditions = []metav1.Condition{
			{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled, Message: "Placed on services-1", LastTransitionTime: decided},
			{Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied, Message: "2 ServiceWork(s) applied at generation 1", LastTransitionTime: decided},
			{Type: fleetv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: fleetv1alpha1.ReasonEngineNotReady, Message: "0/1 replicas ready", LastTransitionTime: decided},
		}
		ms.Status.Placement = fleetv1alpha1.PlacementDecision{
			Cluster: "services-1", Strategy: fleetv1alpha1.StrategyDedicated, Policy: "dedicated-low-latency", Score: 1700, DecidedAt: &decided,
			Candidates: []fleetv1alpha1.Candidate{
				{Cluster: "services-1", Feasible: true, Score: 1700, Scores: []fleetv1alpha1.PluginScore{
					{Plugin: "Latency", Score: 100, Weighted: 500}, {Plugin: "CapacityHeadroom", Score: 100, Weighted: 200},
					{Plugin: "PreferNoPlace", Score: 100, Weighted: 500}, {Plugin: "Steady", Score: 50, Weighted: 500},
				}},
				{Cluster: "mgmt", Reason: "StrategyRole: role Management is not Services"},
				{Cluster: "workload-1", Reason: "StrategyRole: role Workload is not Services"},
			},
		}
		ms.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "cart-cache", Port: 6379, SecretName: "cart-cache-credentials"}
	})
	setStatus("orders-db", func(ms *fleetv1alpha1.ManagedService) {
		ms.Status.Conditions = []metav1.Condition{
			{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled, Message: "Placed on workload-1", LastTransitionTime: decided},
			{Type: fleetv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady, Message: "1 replica(s) ready", LastTransitionTime: decided},
		}
		ms.Status.Placement = fleetv1alpha1.PlacementDecision{Cluster: "workload-1", Strategy: fleetv1alpha1.StrategyWorkload, Score: 197}
		ms.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "orders-db", Port: 5432, SecretName: "orders-db-credentials"}
		ms.Status.ReadyReplicas = 1
	})
	// A service of another team, to tell -n from -A.
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}})).To(Succeed())
	other := placedService("other", "queue", fleetv1alpha1.EngineRabbitMQ, fleetv1alpha1.StrategyManagement, "mgmt")
	other.Spec.Version, other.Status = "3.13", fleetv1alpha1.ManagedServiceStatus{}
	other.CreationTimestamp = metav1.Time{}
	g.Expect(c.Create(ctx, other)).To(Succeed())

	lines := func(out string) []string { return strings.Split(strings.TrimSuffix(out, "\n"), "\n") }
	kc := []string{"--kubeconfig", admin}

	t.Run("get members", func(t *testing.T) {
		g := NewWithT(t)
		out, errLine := run(ctx, append([]string{"get", "members"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		got := lines(out)
		g.Expect(got).To(HaveLen(5))
		g.Expect(got[0]).To(MatchRegexp(`^NAME\s+ROLE\s+AVAILABLE\s+POOLS\s+AGENT\s+AGE$`))
		g.Expect(got[1]).To(MatchRegexp(`^mgmt\s+Management\s+True\s+2\s+v0\.1\.0\s+\d+s$`))
		g.Expect(got[2]).To(MatchRegexp(`^services-1\s+Services\s+True\s+2\s+v0\.1\.0\s+`))
		g.Expect(got[4]).To(MatchRegexp(`^workload-2\s+Workload\s+False\s+2\s+`))

		out, errLine = run(ctx, append([]string{"get", "members", "workload-2", "mgmt", "-o", "wide"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		got = lines(out)
		g.Expect(got).To(HaveLen(3))
		g.Expect(got[1]).To(MatchRegexp(`^workload-2\s+Workload\s+False\s+.*<none>\s+database:2\(tainted\) general:3\s+mgmt:0\.21/0\.90ms workload-2:0\.42/12ms$`))
		g.Expect(got[2]).To(HavePrefix("mgmt "))

		_, errLine = run(ctx, append([]string{"get", "members", "nope"}, kc...)...)
		g.Expect(errLine).To(Equal("membercluster nope not found"))
	})

	t.Run("get services", func(t *testing.T) {
		g := NewWithT(t)
		// No namespace in the context: every namespace.
		out, errLine := run(ctx, append([]string{"get", "services"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		got := lines(out)
		g.Expect(got).To(HaveLen(5))
		g.Expect(got[0]).To(MatchRegexp(`^NAMESPACE\s+NAME\s+ENGINE\s+STRATEGY\s+CLUSTER\s+READY\s+ENDPOINT$`))
		g.Expect(got[1]).To(MatchRegexp(`^other\s+queue\s+RabbitMQ\s+Management\s+<none>\s+Unknown\s+<none>$`))
		g.Expect(got[2]).To(MatchRegexp(`^team\s+cart-cache\s+Redis\s+Dedicated\s+services-1\s+False\s+cart-cache:6379$`))
		g.Expect(got[3]).To(MatchRegexp(`^team\s+events\s+RabbitMQ\s+Management\s+<none>\s+Unknown\s+<none>$`))
		g.Expect(got[4]).To(MatchRegexp(`^team\s+orders-db\s+PostgreSQL\s+Workload\s+workload-1\s+True\s+orders-db:5432$`))

		// The context's namespace, or -n, narrows it; -A widens it again.
		out, errLine = run(ctx, append([]string{"get", "services", "--context", "team", "-o", "wide"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		got = lines(out)
		g.Expect(got).To(HaveLen(4))
		g.Expect(got[1]).To(MatchRegexp(`^team\s+cart-cache\s+Redis\s+7\.2\s+Dedicated\s+dedicated-low-latency\s+services-1\s+False\s+0/1\s+cart-cache:6379\s+cart-cache-credentials\s+Scheduled\s+WorkApplied\s+\d+s$`))
		g.Expect(got[3]).To(MatchRegexp(`^team\s+orders-db\s+PostgreSQL\s+16\s+Workload\s+<built-in>\s+workload-1\s+True\s+1/1\s+orders-db:5432\s+orders-db-credentials\s+Scheduled\s+-\s+`))
		out, errLine = run(ctx, append([]string{"get", "services", "--context", "team", "-A"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(HaveLen(5))
		out, errLine = run(ctx, append([]string{"get", "services", "-n", "other", "queue"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(HaveLen(2))

		out, errLine = run(ctx, append([]string{"get", "services", "-n", "empty"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(BeEmpty(), "the note goes to stderr")
		_, errLine = run(ctx, append([]string{"get", "services", "-n", "team", "nope"}, kc...)...)
		g.Expect(errLine).To(Equal("managedservice team/nope not found"))
		_, errLine = run(ctx, append([]string{"get", "services", "nope"}, kc...)...)
		g.Expect(errLine).To(Equal("--namespace: required with service names (the kubeconfig context sets none)"))
	})

	t.Run("explain", func(t *testing.T) {
		g := NewWithT(t)
		out, errLine := run(ctx, append([]string{"explain", "team/cart-cache"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(MatchRegexp(`(?m)^Requested:\s+strategy Dedicated, policy dedicated-low-latency$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Placement:\s+services-1 \(strategy Dedicated, policy dedicated-low-latency, score 1700, decided 2m(\d+s)? ago\)$`), "the age is the seconds the test took since it wrote the decision")
		g.Expect(out).To(MatchRegexp(`(?m)^Better candidate:\s+none$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  services-1\s+1700\s+Latency\s+100\s+500$`))
		g.Expect(out).To(MatchRegexp(`(?m)^\s+Steady\s+50\s+500$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  workload-1\s+-\s+filtered out by StrategyRole: role Workload is not Services$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  Ready\s+False\s+EngineNotReady\s+2m(\d+s)?\s+0/1 replicas ready$`))

		out, errLine = run(ctx, append([]string{"explain", "team/events"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(MatchRegexp(`(?m)^Placement:\s+not placed \(-\)$`))

		_, errLine = run(ctx, append([]string{"explain", "team/nope"}, kc...)...)
		g.Expect(errLine).To(Equal("managedservice team/nope not found"))
		_, errLine = run(ctx, append([]string{"explain", "foo"}, kc...)...)
		g.Expect(errLine).To(Equal(`argument "foo": expected <namespace>/<name> of a ManagedService, e.g. team/orders-db`))
	})

	t.Run("hub from $KUBECONFIG without a local fleet", func(t *testing.T) {
		g := NewWithT(t)
		t.Setenv("KUBECONFIG", admin)
		out, errLine := run(ctx, "get", "members", "mgmt")
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(HaveLen(2))
		_, errLine = run(ctx, "get", "members", "--context", "nope")
		g.Expect(errLine).To(Equal(`--context: context "nope" does not exist`))
	})

	t.Run("machine-readable output", func(t *testing.T) {
		g := NewWithT(t)
		out, errLine := run(ctx, append([]string{"get", "services", "-o", "json"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		list := &fleetv1alpha1.ManagedServiceList{}
		g.Expect(json.Unmarshal([]byte(out), list)).To(Succeed(), out)
		g.Expect(list.Items).To(HaveLen(4))
		g.Expect(list.Items[1].Name).To(Equal("cart-cache"))
		g.Expect(list.Items[1].Status.Placement.Cluster).To(Equal("services-1"))

		out, errLine = run(ctx, append([]string{"get", "services", "-n", "team", "orders-db", "-o", "yaml"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		ms := &fleetv1alpha1.ManagedService{}
		g.Expect(yaml.UnmarshalStrict([]byte(out), ms)).To(Succeed(), out)
		g.Expect(ms.Kind).To(Equal("ManagedService"))
		g.Expect(ms.Status.Endpoint.Port).To(Equal(int32(5432)))

		out, errLine = run(ctx, append([]string{"get", "members", "-o", "jsonpath={.items[?(@.spec.role==\"Workload\")].metadata.name}"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(Equal("workload-1 workload-2"))

		out, errLine = run(ctx, append([]string{"get", "members", "-o", "name", "mgmt"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(Equal("membercluster.fleet.berth.io/mgmt\n"))
	})

	t.Run("name completion", func(t *testing.T) {
		g := NewWithT(t)
		out, errLine := run(ctx, append([]string{"__complete", "get", "members", "mgmt"}, append(kc, "")...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(Equal([]string{"services-1\tServices", "workload-1\tWorkload", "workload-2\tWorkload", ":4"}))
		out, errLine = run(ctx, append([]string{"__complete", "get", "services", "-n", "team"}, append(kc, "")...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(Equal([]string{"cart-cache\tRedis", "events\tRabbitMQ", "orders-db\tPostgreSQL", ":4"}))
		out, errLine = run(ctx, append([]string{"__complete", "explain"}, append(kc, "")...)...)
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(ContainSubstring("team/orders-db\tPostgreSQL\n"))
		g.Expect(out).To(ContainSubstring("other/queue\tRabbitMQ\n"))
	})

	t.Run("version", func(t *testing.T) {
		g := NewWithT(t)
		out, errLine := run(ctx, append([]string{"version", "-o", "json"}, kc...)...)
		g.Expect(errLine).To(BeEmpty())
		var v versionInfo
		g.Expect(json.Unmarshal([]byte(out), &v)).To(Succeed())
		g.Expect(v.Client.Version).NotTo(BeEmpty())
		g.Expect(v.Hub).NotTo(BeNil())
		g.Expect(v.Hub.Kubernetes).To(HavePrefix("v1."))
		out, errLine = run(ctx, "version", "--client")
		g.Expect(errLine).To(BeEmpty())
		g.Expect(out).To(HavePrefix("Client Version: "))
		g.Expect(out).NotTo(ContainSubstring("Hub"))
	})

	t.Run("a kubeconfig wins over a running local fleet", func(t *testing.T) {
		g := NewWithT(t)
		// A "running" local fleet whose mgmt cluster does not answer.
		cache := t.TempDir()
		t.Setenv("BERTH_CACHE_DIR", cache)
		fleetDir := filepath.Join(cache, "fleets", "dev")
		g.Expect(os.MkdirAll(fleetDir, 0o755)).To(Succeed())
		bad := cfg.DeepCopy()
		bad.Clusters["hub"].Server = "https://127.0.0.1:1"
		fleetKubeconfig := filepath.Join(fleetDir, "mgmt.kubeconfig")
		g.Expect(clientcmd.WriteToFile(*bad, fleetKubeconfig)).To(Succeed())
		state := fmt.Sprintf(`{"name":"dev","phase":"Running","capi":{"managementCluster":"mgmt","namespace":"fleet"},"clusters":[{"name":"mgmt","kubeconfig":%q}]}`, fleetKubeconfig)
		g.Expect(os.WriteFile(filepath.Join(fleetDir, "state.json"), []byte(state), 0o600)).To(Succeed())

		// $KUBECONFIG wins.
		t.Setenv("KUBECONFIG", admin)
		out, errLine := run(ctx, "get", "members", "mgmt")
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(HaveLen(2))
		// So does ~/.kube/config.
		t.Setenv("KUBECONFIG", "")
		home := t.TempDir()
		t.Setenv("HOME", home)
		g.Expect(os.MkdirAll(filepath.Join(home, ".kube"), 0o700)).To(Succeed())
		raw, err := os.ReadFile(admin)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.WriteFile(filepath.Join(home, ".kube", "config"), raw, 0o600)).To(Succeed())
		out, errLine = run(ctx, "get", "members", "mgmt")
		g.Expect(errLine).To(BeEmpty())
		g.Expect(lines(out)).To(HaveLen(2))
		// --fleet asks for the fleet explicitly.
		_, errLine = run(ctx, "get", "members", "--fleet", "dev")
		g.Expect(errLine).To(HavePrefix("listing MemberClusters on https://127.0.0.1:1 (cluster mgmt of the local fleet dev): "))
		// Without any kubeconfig, the running fleet is the hub.
		t.Setenv("HOME", t.TempDir())
		_, errLine = run(ctx, "get", "members")
		g.Expect(errLine).To(HavePrefix("listing MemberClusters on https://127.0.0.1:1 (cluster mgmt of the local fleet dev): "))
	})

	t.Run("no hub at all", func(t *testing.T) {
		g := NewWithT(t)
		t.Setenv("BERTH_CACHE_DIR", t.TempDir())
		_, errLine := run(ctx, "explain", "team/cart-cache")
		g.Expect(errLine).To(Equal("no hub to talk to: no kubeconfig is set (--kubeconfig, $KUBECONFIG, ~/.kube/config) and no local fleet \"dev\" is running (start one with `make demo`)"))
		_, errLine = run(ctx, "get", "members", "--kubeconfig", filepath.Join(dir, "missing"))
		g.Expect(errLine).To(HavePrefix("--kubeconfig: stat "))
		_, errLine = run(ctx, "get", "members", "--fleet", "nope")
		g.Expect(errLine).To(Equal(`--fleet: the local fleet is not running: no fleet "nope"`))
	})

	t.Run("unreachable hub", func(t *testing.T) {
		g := NewWithT(t)
		bad := cfg.DeepCopy()
		bad.Clusters["hub"].Server = "https://127.0.0.1:1"
		path := filepath.Join(dir, "bad.kubeconfig")
		g.Expect(clientcmd.WriteToFile(*bad, path)).To(Succeed())
		_, errLine := run(ctx, "get", "members", "--kubeconfig", path)
		g.Expect(errLine).To(HavePrefix("listing MemberClusters on https://127.0.0.1:1 (kubeconfig " + path + "): "))
		g.Expect(errLine).To(ContainSubstring("connection refused"))
	})
}
