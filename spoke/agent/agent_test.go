package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/inventory"
	"github.com/berth-io/berth/spoke/lease"
	"github.com/berth-io/berth/spoke/probe"
	"github.com/berth-io/berth/spoke/report"
)

const eventually = 60 * time.Second

func getMember(ctx context.Context, g Gomega, name string) *fleetv1alpha1.MemberCluster {
	mc := &fleetv1alpha1.MemberCluster{}
	g.Expect(hubEnv.Client.Get(ctx, client.ObjectKey{Name: name}, mc)).To(Succeed())
	return mc
}

func pool(mc *fleetv1alpha1.MemberCluster, name string) *fleetv1alpha1.NodePool {
	for i := range mc.Status.NodePools {
		if mc.Status.NodePools[i].Name == name {
			return &mc.Status.NodePools[i]
		}
	}
	return nil
}

func qty(l corev1.ResourceList, r corev1.ResourceName) string {
	q := l[r]
	return q.String()
}

// equalQty matches a quantity string by value: "3Gi" equals "3072Mi".
func equalQty(want string) OmegaMatcher {
	canonical := func(s string) string {
		q := resource.MustParse(s)
		return q.String()
	}
	return WithTransform(canonical, Equal(canonical(want)))
}

func getLease(ctx context.Context, g Gomega, ns string) *coordinationv1.Lease {
	l := &coordinationv1.Lease{}
	g.Expect(hubEnv.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: lease.Name}, l)).To(Succeed())
	return l
}

// TestAgentJoinsAndReports runs a spoke with the least privileges on both
// sides and checks everything it reports.
func TestAgentJoinsAndReports(t *testing.T) {
	ctx := context.Background()
	m := registerOnHub(ctx, t, hubEnv, "alpha")
	mc := memberEnv.Client

	// The member cluster: two pools and one unlabeled node, pods in every
	// state, an operator, and Cilium with ClusterMesh.
	dbLabels := map[string]string{"node.berth.io/pool": "db", "disk": "ssd"}
	dbTaint := []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	createNode(ctx, t, mc, "alpha-db-1", dbLabels, dbTaint, "4", "16Gi", "100Gi")
	createNode(ctx, t, mc, "alpha-db-2", dbLabels, dbTaint, "4", "16Gi", "100Gi")
	createNode(ctx, t, mc, "alpha-gen-1", map[string]string{"nodeType": "general"}, nil, "2", "8Gi", "50Gi")
	must(t, mc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appsNamespace}}))
	createPod(ctx, t, mc, "web", "alpha-db-1", nil, rl("500m", "1Gi"))
	// The init container's 3 CPUs exceed the container's 1: the pod reserves 3.
	createPod(ctx, t, mc, "migrate", "alpha-db-2", rl("3", ""), rl("1", "2Gi"))
	done := createPod(ctx, t, mc, "job", "alpha-gen-1", nil, rl("1", "1Gi"))
	setPodPhase(ctx, t, mc, done, corev1.PodSucceeded)
	createPod(ctx, t, mc, "pending", "", nil, rl("8", "8Gi"))
	createCRD(ctx, t, mc, "acid.zalan.do", "postgresqls", "Postgresql", apiextensionsv1.NamespaceScoped)
	createCRD(ctx, t, mc, "cilium.io", "ciliumnetworkpolicies", "CiliumNetworkPolicy", apiextensionsv1.NamespaceScoped)
	must(t, mc.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: inventory.ClusterMeshSecret},
		Data:       map[string][]byte{"beta": []byte("endpoints: [https://beta.mesh:2379]")},
	}))
	must(t, mc.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: inventory.CiliumConfigMap},
		Data:       map[string]string{inventory.CiliumClusterNameKey: "alpha", "other": "ignored"},
	}))

	// A peer's probe endpoint, and the peers ConfigMap the hub writes.
	peer, err := probe.Listen("127.0.0.1:0")
	must(t, err)
	peerCtx, stopPeer := context.WithCancel(ctx)
	defer stopPeer()
	go func() { _ = peer.Start(peerCtx) }()
	must(t, hubEnv.Client.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: PeersConfigMap},
		Data:       map[string]string{"beta": peer.Addr().String(), "gamma": "not-an-address", "alpha": "127.0.0.1:1"},
	}))

	hubRec, memberRec := &recorder{}, &recorder{}
	kubeconfig := writeHubKubeconfig(t, "", hubEnv.Config.Host, hubEnv, spokeToken(ctx, t, hubEnv, m))
	hubCfg, err := LoadHubConfig(kubeconfig, 0)
	must(t, err)
	memberCfg := memberSpokeConfig(ctx, t, memberEnv, "alpha-spoke")
	a, err := New(testOptions("alpha", hubRec.wrap(hubCfg), memberRec.wrap(memberCfg)))
	must(t, err)
	stopped := runAgent(t, a)

	t.Run("joins without touching the hub's fields", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			got := getMember(ctx, g, "alpha")
			joined := meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionJoined)
			g.Expect(joined).NotTo(BeNil())
			g.Expect(joined.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(joined.Reason).To(Equal(fleetv1alpha1.ReasonAgentConnected))
			g.Expect(got.Status.AgentVersion).To(Equal("v0.0.0-test"))
			g.Expect(got.Status.ProbeEndpoint).To(Equal(a.ProbeEndpoint()))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionRegistered)).To(BeTrue(), "the hub's condition survives")
			g.Expect(got.Status.Namespace).To(Equal(m.namespace), "the hub's namespace survives")
		}, eventually, 200*time.Millisecond).Should(Succeed())

		got := getMember(ctx, g, "alpha")
		managers := map[string]metav1.ManagedFieldsOperationType{}
		for _, f := range got.ManagedFields {
			if f.Subresource == "status" {
				managers[f.Manager] = f.Operation
				if f.Manager == report.FieldManager {
					g.Expect(f.FieldsV1.GetRawString()).NotTo(ContainSubstring(`"f:namespace"`))
					g.Expect(f.FieldsV1.GetRawString()).NotTo(ContainSubstring(`"k:{\"type\":\"Registered\"}"`))
				}
			}
		}
		g.Expect(managers).To(HaveKeyWithValue(report.FieldManager, metav1.ManagedFieldsOperationApply))
		g.Expect(managers).To(HaveKeyWithValue("berth-hub", metav1.ManagedFieldsOperationApply))
	})

	t.Run("reports node pools", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			got := getMember(ctx, g, "alpha")
			db := pool(got, "db")
			g.Expect(db).NotTo(BeNil())
			g.Expect(db.NodeCount).To(Equal(int32(2)))
			g.Expect(db.Labels).To(Equal(map[string]string{"node.berth.io/pool": "db", "disk": "ssd"}))
			g.Expect(db.Taints).To(Equal(dbTaint))
			g.Expect(qty(db.Allocatable, corev1.ResourceCPU)).To(equalQty("8"))
			g.Expect(qty(db.Allocatable, corev1.ResourceMemory)).To(equalQty("32Gi"))
			g.Expect(qty(db.Allocatable, corev1.ResourceEphemeralStorage)).To(equalQty("200Gi"))
			g.Expect(qty(db.Requested, corev1.ResourceCPU)).To(equalQty("3500m"))
			g.Expect(qty(db.Requested, corev1.ResourceMemory)).To(equalQty("3Gi"))
			gen := pool(got, "general")
			g.Expect(gen).NotTo(BeNil())
			g.Expect(gen.NodeCount).To(Equal(int32(1)))
			g.Expect(qty(gen.Allocatable, corev1.ResourceCPU)).To(equalQty("2"))
			g.Expect(qty(gen.Requested, corev1.ResourceCPU)).To(equalQty("0"), "a Succeeded pod reserves nothing")
			g.Expect(got.Status.PoolCount).To(Equal(int32(len(got.Status.NodePools))))
		}, eventually, 200*time.Millisecond).Should(Succeed())
	})

	t.Run("reports capabilities", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			caps := getMember(ctx, g, "alpha").Status.Capabilities
			g.Expect(caps.Operators).To(Equal([]fleetv1alpha1.Operator{fleetv1alpha1.OperatorZalandoPostgres}))
			g.Expect(caps.Cilium).To(BeTrue())
			g.Expect(caps.ClusterMesh).To(BeTrue())
			g.Expect(caps.CiliumClusterName).To(Equal("alpha"))
			g.Expect(a.Capabilities()).To(Equal(caps), "other spoke controllers read the same capabilities")
		}, eventually, 200*time.Millisecond).Should(Succeed())
	})

	t.Run("renews the Lease", func(t *testing.T) {
		g := NewWithT(t)
		var first *coordinationv1.Lease
		g.Eventually(func(g Gomega) {
			first = getLease(ctx, g, m.namespace)
		}, eventually, 200*time.Millisecond).Should(Succeed())
		g.Expect(*first.Spec.HolderIdentity).To(Equal("alpha"))
		g.Expect(*first.Spec.LeaseDurationSeconds).To(Equal(int32(3)))
		g.Eventually(func(g Gomega) {
			l := getLease(ctx, g, m.namespace)
			g.Expect(l.Spec.RenewTime.After(first.Spec.RenewTime.Time)).To(BeTrue())
		}, eventually, 200*time.Millisecond).Should(Succeed())
		g.Expect(a.LastLeaseRenew()).To(BeTemporally("~", time.Now(), 5*time.Second))
	})

	t.Run("measures latency to peers", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			lat := getMember(ctx, g, "alpha").Status.Latencies
			g.Expect(lat).To(HaveLen(1), "only the valid peer other than itself")
			g.Expect(lat[0].Peer).To(Equal("beta"))
			g.Expect(lat[0].Samples).To(BeNumerically(">=", int32(probe.DefaultPingsPerPeer)))
			g.Expect(lat[0].P50.Duration).To(BeNumerically(">", 0))
			g.Expect(lat[0].P50.Duration).To(BeNumerically("<", 500*time.Millisecond))
			g.Expect(lat[0].P99.Duration).To(BeNumerically(">=", lat[0].P50.Duration))
			g.Expect(lat[0].MeasuredAt.Time).To(BeTemporally("~", time.Now(), time.Minute))
		}, eventually, 200*time.Millisecond).Should(Succeed())
		lat := getMember(ctx, g, "alpha").Status.Latencies[0]
		t.Logf("loopback RTT to peer %s: p50 %s, p99 %s over %d samples", lat.Peer, lat.P50.Duration, lat.P99.Duration, lat.Samples)
	})

	t.Run("follows the member cluster from watches, rate-limited", func(t *testing.T) {
		g := NewWithT(t)
		before := a.StatusWrites()
		start := time.Now()
		// A burst of 20 pods and a new node.
		for i := range 20 {
			createPod(ctx, t, mc, fmt.Sprintf("burst-%d", i), "alpha-db-1", nil, rl("100m", "64Mi"))
		}
		createNode(ctx, t, mc, "alpha-db-3", dbLabels, dbTaint, "4", "16Gi", "100Gi")
		g.Eventually(func(g Gomega) {
			db := pool(getMember(ctx, g, "alpha"), "db")
			g.Expect(db).NotTo(BeNil())
			g.Expect(db.NodeCount).To(Equal(int32(3)))
			g.Expect(qty(db.Requested, corev1.ResourceCPU)).To(equalQty("5500m"))
			g.Expect(qty(db.Requested, corev1.ResourceMemory)).To(equalQty("4352Mi"))
		}, eventually, 200*time.Millisecond).Should(Succeed())
		elapsed := time.Since(start)
		writes := a.StatusWrites() - before
		// Writes start at least StatusInterval (500ms) apart; one more may
		// have started just before the burst and finished in it.
		limit := int(elapsed/(500*time.Millisecond)) + 2
		t.Logf("%d status writes in %s for 21 member changes (limit %d)", writes, elapsed.Round(time.Millisecond), limit)
		g.Expect(writes).To(BeNumerically("<=", limit))
		g.Expect(writes).To(BeNumerically("<", 21), "changes are coalesced")

		// A pod that finishes stops counting.
		web := &corev1.Pod{}
		must(t, mc.Get(ctx, client.ObjectKey{Namespace: appsNamespace, Name: "web"}, web))
		setPodPhase(ctx, t, mc, web, corev1.PodFailed)
		g.Eventually(func(g Gomega) {
			db := pool(getMember(ctx, g, "alpha"), "db")
			g.Expect(qty(db.Requested, corev1.ResourceCPU)).To(equalQty("5"))
		}, eventually, 200*time.Millisecond).Should(Succeed())
	})

	t.Run("uses only its own namespace and object on the hub, never deletes", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(stopped).NotTo(Receive(), "the agent is still running")
		hubReqs := hubRec.all()
		g.Expect(hubReqs).NotTo(BeEmpty())
		for _, r := range hubReqs {
			g.Expect(r.method).NotTo(Equal("DELETE"), r.String())
			g.Expect(r.status).NotTo(Equal(403), "the spoke tried something its identity may not do: %s", r)
			g.Expect(r.status).NotTo(Equal(401), r.String())
			allowed := r.path == "/api" || r.path == "/apis" || strings.HasPrefix(r.path, "/apis/") && strings.Count(r.path, "/") == 3 ||
				strings.HasPrefix(r.path, "/api/v1") && !strings.Contains(r.path[len("/api/v1"):], "/") ||
				strings.Contains(r.path, "/namespaces/"+m.namespace+"/") ||
				r.path == "/apis/fleet.berth.io/v1alpha1/memberclusters/alpha" ||
				r.path == "/apis/fleet.berth.io/v1alpha1/memberclusters/alpha/status"
			g.Expect(allowed).To(BeTrue(), "request outside the member's namespace: %s", r)
		}
		for _, r := range memberRec.all() {
			g.Expect(r.method).To(Equal("GET"), "the inventory only reads: %s", r)
			g.Expect(r.status).NotTo(Equal(403), "the inventory needs more than PolicyRules grant: %s", r)
		}
	})
}
