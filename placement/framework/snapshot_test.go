package framework_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

func TestNewService(t *testing.T) {
	testCases := []struct {
		name  string
		ms    *fleetv1alpha1.ManagedService
		per   framework.Resources
		total framework.Resources
	}{
		{
			name:  "requests times replicas, storage size per replica",
			ms:    ptesting.NewService("t", "a").Replicas(3).Requests("1500m", "2Gi").Storage("10Gi").Build(),
			per:   framework.Resources{MilliCPU: 1500, Memory: 2 << 30, Storage: 10 << 30},
			total: framework.Resources{MilliCPU: 4500, Memory: 6 << 30, Storage: 30 << 30},
		},
		{
			name: "limits stand in for missing requests",
			ms: func() *fleetv1alpha1.ManagedService {
				ms := ptesting.NewService("t", "a").Replicas(2).Build()
				ms.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
				ms.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("1Gi")}
				return ms
			}(),
			per:   framework.Resources{MilliCPU: 1000, Memory: 1 << 30, Storage: 1 << 30},
			total: framework.Resources{MilliCPU: 2000, Memory: 2 << 30, Storage: 2 << 30},
		},
		{
			name:  "no resources",
			ms:    ptesting.NewService("t", "a").Replicas(0).Build(),
			per:   framework.Resources{Storage: 1 << 30},
			total: framework.Resources{Storage: 1 << 30},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			svc := framework.NewService(tc.ms)
			g.Expect(svc.PerReplica).To(Equal(tc.per))
			g.Expect(svc.Requests).To(Equal(tc.total))
		})
	}
}

func TestNewServiceSelectorsAndStrategy(t *testing.T) {
	g := NewWithT(t)
	ms := ptesting.NewService("t", "a").Strategy("").ClusterSelector("region", "eu").MaxLatency(2*time.Millisecond).PlacedOn("x", "Dedicated").Build()
	svc := framework.NewService(ms)
	g.Expect(svc.Strategy).To(Equal(fleetv1alpha1.StrategyWorkload))
	g.Expect(svc.ClusterSelector.String()).To(Equal("region=eu"))
	g.Expect(svc.MaxLatency).To(Equal(2 * time.Millisecond))
	g.Expect(svc.Current).To(Equal("x"))

	ms.Spec.Placement.ClusterSelector.MatchExpressions = append(ms.Spec.Placement.ClusterSelector.MatchExpressions,
		metav1LabelSelectorRequirement("k", "Bogus"))
	g.Expect(framework.NewService(ms).ClusterSelectorErr).To(HaveOccurred())
}

func TestRTTsTo(t *testing.T) {
	g := NewWithT(t)
	ms := time.Millisecond
	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{
		ptesting.NewMember("consumer").Latency("b", 1*ms, 2*ms).Latency("c", 3*ms, 4*ms).Build(),
		ptesting.NewMember("b").Build(),
		// c's own measurement wins over the consumer's.
		ptesting.NewMember("c").Latency("consumer", 5*ms, 6*ms).Build(),
		ptesting.NewMember("d").Build(),
	})
	r := snap.RTTsTo("consumer")
	g.Expect(r[snap.Get("consumer").Index]).To(Equal(framework.RTT{Known: true}))
	g.Expect(r[snap.Get("b").Index]).To(Equal(framework.RTT{P50: 1 * ms, P99: 2 * ms, Known: true}))
	g.Expect(r[snap.Get("c").Index]).To(Equal(framework.RTT{P50: 5 * ms, P99: 6 * ms, Known: true}))
	g.Expect(r[snap.Get("d").Index].Known).To(BeFalse())

	// A consumer that is not a member: only the members' own figures count.
	g.Expect(snap.RTTsTo("ghost")[snap.Get("b").Index].Known).To(BeFalse())
}

func TestRTTManyPeers(t *testing.T) {
	g := NewWithT(t)
	b := ptesting.NewMember("big")
	for i := range 40 {
		b.Latency(string(rune('a'+i%26))+string(rune('a'+i/26)), time.Duration(i+1)*time.Millisecond, time.Duration(i+2)*time.Millisecond)
	}
	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{b.Build(), ptesting.NewMember("cb").Build()})
	g.Expect(snap.RTTsTo("cb")[snap.Get("big").Index]).To(Equal(framework.RTT{P50: 29 * time.Millisecond, P99: 30 * time.Millisecond, Known: true}))
}

func TestSnapshotOrderAndDuplicates(t *testing.T) {
	g := NewWithT(t)
	first := ptesting.NewMember("b").Role(fleetv1alpha1.RoleServices).Build()
	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{first, ptesting.NewMember("a").Build(), ptesting.NewMember("b").Build()})
	g.Expect(snap.Len()).To(Equal(2))
	g.Expect(snap.Members()[0].Name).To(Equal("a"))
	g.Expect(snap.Get("b").Role).To(Equal(fleetv1alpha1.RoleServices))
	g.Expect(snap.Get("b").Index).To(Equal(1))
	g.Expect(snap.Get("zz")).To(BeNil())
}

func TestAssume(t *testing.T) {
	g := NewWithT(t)
	mc := ptesting.NewMember("a").Pool("small", "2", "4Gi").Pool("big", "16", "64Gi").Build()
	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{mc})
	original := snap.Get("a")
	svc := framework.NewService(ptesting.NewService("t", "s").Replicas(2).Requests("1", "1Gi").Build())
	snap.Assume(svc, "a")
	snap.Assume(svc, "nowhere")
	m := snap.Get("a")
	// The least utilised pool after placing gets the requests, storage
	// included (CapacityFit counts it against ephemeral-storage).
	g.Expect(m.Pools[1].Requested).To(Equal(framework.Resources{MilliCPU: 2000, Memory: 2 << 30, Storage: 2 << 30}))
	g.Expect(m.Pools[0].Requested).To(Equal(framework.Resources{}))
	// Copy on write: the parsed member of the original is untouched.
	g.Expect(original.Pools[1].Requested).To(Equal(framework.Resources{}))
	g.Expect(m.Index).To(Equal(original.Index))
}

func TestMemberParsing(t *testing.T) {
	g := NewWithT(t)
	mc := ptesting.NewMember("a").Available(false).
		Operators(fleetv1alpha1.OperatorSpotahomeRedis, "Unknown").
		Pool("p", "4", "8Gi", ptesting.Requested("1500m", "2Gi"), ptesting.EphemeralStorage("100Gi", "10Gi")).Build()
	mc.Spec.Role = ""
	m := framework.NewMember(mc)
	g.Expect(m.Available).To(BeFalse())
	g.Expect(m.Role).To(Equal(fleetv1alpha1.RoleWorkload))
	g.Expect(m.Operators.Has(framework.OpSpotahomeRedis)).To(BeTrue())
	g.Expect(m.Operators.Has(framework.OpZalandoPostgres)).To(BeFalse())
	g.Expect(m.Operators.Has(0)).To(BeFalse())
	g.Expect(m.Pools[0].Free()).To(Equal(framework.Resources{MilliCPU: 2500, Memory: 6 << 30, Storage: 90 << 30}))
}
