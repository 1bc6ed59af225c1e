package report

import (
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/inventory"
)

func TestApplyObjectSendsOnlyOwnedFields(t *testing.T) {
	since := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	full := State{
		AgentVersion:  "v1.2.3",
		ProbeEndpoint: "10.0.0.1:9473",
		Inventory: inventory.Snapshot{
			NodePools: []fleetv1alpha1.NodePool{{
				Name: "db", NodeCount: 2,
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")},
				Requested:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
			}},
			Capabilities: fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{fleetv1alpha1.OperatorZalandoPostgres}},
		},
		Latencies: []fleetv1alpha1.PeerLatency{{
			Peer: "b", P50: metav1.Duration{Duration: 1500 * time.Microsecond}, P99: metav1.Duration{Duration: 3 * time.Millisecond},
			Samples: 5, MeasuredAt: since,
		}},
		JoinedSince: since,
	}
	testCases := []struct {
		name       string
		state      State
		wantFields []string
	}{
		{
			name:       "everything set",
			state:      full,
			wantFields: []string{"agentVersion", "capabilities", "conditions", "latencies", "nodePools", "poolCount", "probeEndpoint"},
		},
		{
			name:       "an empty cluster drops the lists and the count",
			state:      State{AgentVersion: "v1", ProbeEndpoint: "h:1", JoinedSince: since},
			wantFields: []string{"agentVersion", "capabilities", "conditions", "probeEndpoint"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			u, err := ApplyObject("member-a", tc.state)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(u.GetAPIVersion()).To(Equal("fleet.berth.io/v1alpha1"))
			g.Expect(u.GetKind()).To(Equal("MemberCluster"))
			g.Expect(u.GetName()).To(Equal("member-a"))
			g.Expect(u.GetResourceVersion()).To(BeEmpty(), "an apply must not carry a resourceVersion")

			top := keys(u.Object)
			g.Expect(top).To(Equal([]string{"apiVersion", "kind", "metadata", "status"}), "no spec, nothing else")
			status, _, _ := unstructured.NestedMap(u.Object, "status")
			g.Expect(keys(status)).To(Equal(tc.wantFields))
			for _, hub := range []string{"observedGeneration", "namespace"} {
				g.Expect(status).NotTo(HaveKey(hub), "hub-owned %s must never be sent", hub)
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			g.Expect(conds).To(HaveLen(1), "only the Joined condition is sent")
			g.Expect(conds[0]).To(HaveKeyWithValue("type", fleetv1alpha1.ConditionJoined))
			g.Expect(conds[0]).To(HaveKeyWithValue("reason", fleetv1alpha1.ReasonAgentConnected))
			g.Expect(conds[0]).To(HaveKeyWithValue("lastTransitionTime", "2030-01-01T00:00:00Z"))
		})
	}
}

func TestApplyObjectEncodesFigures(t *testing.T) {
	g := NewWithT(t)
	since := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := ApplyObject("m", State{
		Inventory: inventory.Snapshot{NodePools: []fleetv1alpha1.NodePool{{
			Name: "a", NodeCount: 1,
			Requested: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1536Mi")},
		}}},
		Latencies:   []fleetv1alpha1.PeerLatency{{Peer: "b", P50: metav1.Duration{Duration: 1500 * time.Microsecond}, MeasuredAt: since}},
		JoinedSince: since,
	})
	g.Expect(err).NotTo(HaveOccurred())
	count, _, _ := unstructured.NestedInt64(u.Object, "status", "poolCount")
	g.Expect(count).To(Equal(int64(1)))
	pools, _, _ := unstructured.NestedSlice(u.Object, "status", "nodePools")
	g.Expect(pools[0]).To(HaveKeyWithValue("requested", map[string]any{"memory": "1536Mi"}))
	lat, _, _ := unstructured.NestedSlice(u.Object, "status", "latencies")
	g.Expect(lat[0]).To(HaveKeyWithValue("p50", "1.5ms"))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestStatusEqual(t *testing.T) {
	since := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	state := func(cpu string) State {
		return State{
			AgentVersion: "v1", ProbeEndpoint: "10.0.0.1:9473", JoinedSince: since,
			Inventory: inventory.Snapshot{NodePools: []fleetv1alpha1.NodePool{{
				Name: "db", NodeCount: 2, Requested: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
			}}},
		}
	}
	base := DesiredStatus(state("1"))
	hubOwned := func(st fleetv1alpha1.MemberClusterStatus) fleetv1alpha1.MemberClusterStatus {
		st = *st.DeepCopy()
		st.ObservedGeneration = 7
		st.Namespace = "berth-member-a"
		st.Conditions = append([]metav1.Condition{{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionFalse}}, st.Conditions...)
		return st
	}
	testCases := []struct {
		name  string
		other fleetv1alpha1.MemberClusterStatus
		equal bool
	}{
		{name: "the same", other: DesiredStatus(state("1")), equal: true},
		{name: "the same quantity spelt differently", other: DesiredStatus(state("1000m")), equal: true},
		{name: "hub-owned fields differ", other: hubOwned(base), equal: true},
		{name: "requested CPU changed", other: DesiredStatus(state("1100m"))},
		{
			name: "the same instant in another zone",
			other: func() fleetv1alpha1.MemberClusterStatus {
				s := state("1")
				s.JoinedSince = metav1.NewTime(since.In(time.FixedZone("x", 3600)))
				return DesiredStatus(s)
			}(),
			equal: true,
		},
		{
			name: "the Joined condition is missing (wiped)",
			other: func() fleetv1alpha1.MemberClusterStatus {
				st := *base.DeepCopy()
				st.Conditions = nil
				return st
			}(),
		},
		{
			name: "nil and empty latencies",
			other: func() fleetv1alpha1.MemberClusterStatus {
				st := *base.DeepCopy()
				st.Latencies = []fleetv1alpha1.PeerLatency{}
				return st
			}(),
			equal: true,
		},
		{
			name: "the agent version changed",
			other: func() fleetv1alpha1.MemberClusterStatus {
				s := state("1")
				s.AgentVersion = "v2"
				return DesiredStatus(s)
			}(),
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(StatusEqual(base, tc.other)).To(Equal(tc.equal))
			g.Expect(StatusEqual(tc.other, base)).To(Equal(tc.equal), "symmetric")
		})
	}
}
