package inventory

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestPoolName(t *testing.T) {
	testCases := []struct {
		name   string
		node   *corev1.Node
		labels []string
		want   string
	}{
		{name: "berth pool label", node: newNode("n").label("node.berth.io/pool", "db").label("nodeType", "x").build(), labels: DefaultPoolLabels, want: "db"},
		{name: "falls back to nodeType", node: newNode("n").label("nodeType", "general").build(), labels: DefaultPoolLabels, want: "general"},
		{name: "empty value is skipped", node: newNode("n").label("node.berth.io/pool", "").label("nodeType", "general").build(), labels: DefaultPoolLabels, want: "general"},
		{name: "no label is the default pool", node: newNode("n").build(), labels: DefaultPoolLabels, want: DefaultPoolName},
		{name: "configured label", node: newNode("n").label("example.com/group", "gpu").label("node.berth.io/pool", "db").build(), labels: []string{"example.com/group"}, want: "gpu"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(PoolName(tc.node, tc.labels)).To(Equal(tc.want))
		})
	}
}

func TestNodePools(t *testing.T) {
	const pool = "node.berth.io/pool"
	testCases := []struct {
		name  string
		nodes []*corev1.Node
		pods  []*corev1.Pod
		want  []fleetv1alpha1.NodePool
	}{
		{
			name: "no nodes, no pools",
			want: []fleetv1alpha1.NodePool{},
		},
		{
			name: "groups, sums allocatable and keeps common labels and taints",
			nodes: []*corev1.Node{
				newNode("db-1").label(pool, "db").label("zone", "a").label("disk", "ssd").
					taint("dedicated", "db", corev1.TaintEffectNoSchedule).taint("only-here", "", corev1.TaintEffectNoExecute).
					taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoSchedule).
					allocatable("4", "16Gi", "100Gi").build(),
				newNode("db-2").label(pool, "db").label("zone", "b").label("disk", "ssd").
					taint("dedicated", "db", corev1.TaintEffectNoSchedule).
					taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoSchedule).
					allocatable("4", "16Gi", "100Gi").build(),
				newNode("gen-1").label("nodeType", "general").allocatable("2", "8Gi", "").build(),
				newNode("plain").allocatable("1", "1Gi", "10Gi").build(),
			},
			want: []fleetv1alpha1.NodePool{
				{
					Name:        "db",
					Labels:      map[string]string{pool: "db", "disk": "ssd"},
					Taints:      []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}},
					NodeCount:   2,
					Allocatable: rl("8", "32Gi", "200Gi"),
					Requested:   rl("0", "0", "0"),
				},
				{Name: "default", NodeCount: 1, Allocatable: rl("1", "1Gi", "10Gi"), Requested: rl("0", "0", "0")},
				{
					Name:        "general",
					Labels:      map[string]string{"nodeType": "general"},
					NodeCount:   1,
					Allocatable: rl("2", "8Gi", "0"),
					Requested:   rl("0", "0", "0"),
				},
			},
		},
		{
			name: "requested sums non-terminal pods bound to the pool's nodes",
			nodes: []*corev1.Node{
				newNode("a-1").label(pool, "a").allocatable("8", "32Gi", "100Gi").build(),
				newNode("a-2").label(pool, "a").allocatable("8", "32Gi", "100Gi").build(),
				newNode("b-1").label(pool, "b").allocatable("8", "32Gi", "100Gi").build(),
			},
			pods: []*corev1.Pod{
				newPod("running", "a-1").container(rl("500m", "1Gi", "1Gi")).build(),
				newPod("pending-bound", "a-2").phase(corev1.PodPending).container(rl("250m", "512Mi", "")).build(),
				newPod("unknown-phase", "a-2").phase(corev1.PodUnknown).container(rl("250m", "", "")).build(),
				newPod("succeeded", "a-1").phase(corev1.PodSucceeded).container(rl("4", "4Gi", "")).build(),
				newPod("failed", "a-1").phase(corev1.PodFailed).container(rl("4", "4Gi", "")).build(),
				newPod("unbound", "").phase(corev1.PodPending).container(rl("4", "4Gi", "")).build(),
				newPod("gone-node", "zz-9").container(rl("4", "4Gi", "")).build(),
				newPod("b-pod", "b-1").container(rl("1", "2Gi", "")).container(rl("1", "", "")).build(),
			},
			want: []fleetv1alpha1.NodePool{
				{Name: "a", Labels: map[string]string{pool: "a"}, NodeCount: 2, Allocatable: rl("16", "64Gi", "200Gi"), Requested: rl("1", "1536Mi", "1Gi")},
				{Name: "b", Labels: map[string]string{pool: "b"}, NodeCount: 1, Allocatable: rl("8", "32Gi", "100Gi"), Requested: rl("2", "2Gi", "0")},
			},
		},
		{
			name: "a single node pool does not report its hostname label",
			nodes: []*corev1.Node{
				newNode("solo").label(pool, "solo").taint("t", "v", corev1.TaintEffectNoSchedule).taint("t", "v", corev1.TaintEffectNoSchedule).build(),
			},
			want: []fleetv1alpha1.NodePool{{
				Name: "solo", Labels: map[string]string{pool: "solo"},
				Taints:    []corev1.Taint{{Key: "t", Value: "v", Effect: corev1.TaintEffectNoSchedule}},
				NodeCount: 1, Allocatable: rl("0", "0", "0"), Requested: rl("0", "0", "0"),
			}},
		},
		{
			name: "no common taint when effects differ",
			nodes: []*corev1.Node{
				newNode("x-1").label(pool, "x").taint("k", "v", corev1.TaintEffectNoSchedule).build(),
				newNode("x-2").label(pool, "x").taint("k", "v", corev1.TaintEffectPreferNoSchedule).build(),
			},
			want: []fleetv1alpha1.NodePool{{
				Name: "x", Labels: map[string]string{pool: "x"}, NodeCount: 2,
				Allocatable: rl("0", "0", "0"), Requested: rl("0", "0", "0"),
			}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := NodePools(tc.nodes, tc.pods, DefaultPoolLabels)
			g.Expect(equality.Semantic.DeepEqual(got, tc.want)).To(BeTrue(), "got %+v\nwant %+v", got, tc.want)
		})
	}
}
