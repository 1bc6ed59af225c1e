package plugins_test

import (
	"context"
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
	"github.com/berth-io/berth/placement/plugins"
	ptesting "github.com/berth-io/berth/placement/testing"
)

func metav1Requirement(key, op string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOperator(op)}
}

// scoreCase runs one score plugin, normalisation included, over a fleet.
type scoreCase struct {
	name    string
	args    string
	svc     *framework.Service
	members []*ptesting.MemberBuilder
	raw     map[string]int64
	want    map[string]int64
}

func runScoreCases(t *testing.T, plugin string, testCases []scoreCase) {
	t.Helper()
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p, err := plugins.NewInTreeRegistry()[plugin](json.RawMessage(tc.args))
			g.Expect(err).NotTo(HaveOccurred())
			sp := p.(framework.ScorePlugin)
			var mcs []*fleetv1alpha1.MemberCluster
			for _, b := range tc.members {
				mcs = append(mcs, b.Build())
			}
			snap := framework.NewSnapshot(mcs)
			state := framework.NewCycleState(snap, tc.svc.Strategy, tc.svc.Consumer)
			ctx := context.Background()
			list := make(framework.ClusterScoreList, snap.Len())
			raw := map[string]int64{}
			for i, m := range snap.Members() {
				s, st := sp.Score(ctx, state, tc.svc, m)
				g.Expect(st.IsSuccess()).To(BeTrue())
				list[i] = framework.ClusterScore{Member: m, Score: s}
				raw[m.Name] = s
			}
			if tc.raw != nil {
				g.Expect(raw).To(Equal(tc.raw))
			}
			if ext := sp.ScoreExtensions(); ext != nil {
				g.Expect(ext.NormalizeScore(ctx, state, tc.svc, list).IsSuccess()).To(BeTrue())
			}
			got := map[string]int64{}
			for _, c := range list {
				got[c.Member.Name] = c.Score
			}
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func svcOf(b *ptesting.ServiceBuilder) *framework.Service { return framework.NewService(b.Build()) }

func TestCoLocation(t *testing.T) {
	runScoreCases(t, plugins.CoLocationName, []scoreCase{{
		name:    "the consumer's cluster gets 100",
		svc:     svcOf(ptesting.NewService("t", "s").Consumer("c1")),
		members: []*ptesting.MemberBuilder{ptesting.NewMember("c1"), ptesting.NewMember("c2")},
		want:    map[string]int64{"c1": 100, "c2": 0},
	}})
}

func TestSteady(t *testing.T) {
	placed := svcOf(ptesting.NewService("t", "s").PlacedOn("b", fleetv1alpha1.StrategyDedicated))
	replacing := svcOf(ptesting.NewService("t", "s").PlacedOn("b", fleetv1alpha1.StrategyDedicated))
	replacing.Replacing = true
	members := []*ptesting.MemberBuilder{ptesting.NewMember("a"), ptesting.NewMember("b")}
	runScoreCases(t, plugins.SteadyName, []scoreCase{
		{name: "the current cluster gets 100", svc: placed, members: members, want: map[string]int64{"a": 0, "b": 100}},
		{name: "unplaced: all 0", svc: svcOf(ptesting.NewService("t", "s")), members: members, want: map[string]int64{"a": 0, "b": 0}},
		{name: "replacing: no bonus", svc: replacing, members: members, want: map[string]int64{"a": 0, "b": 0}},
	})
}

func TestLatency(t *testing.T) {
	svc := svcOf(ptesting.NewService("t", "s").Consumer("c1").Strategy(fleetv1alpha1.StrategyDedicated))
	runScoreCases(t, plugins.LatencyName, []scoreCase{
		{
			name: "lowest p50 100, highest 0, linear, unknown 0",
			svc:  svc,
			members: []*ptesting.MemberBuilder{
				ptesting.NewMember("c1").Latency("s1", 1*ms, 5*ms).Latency("s2", 2*ms, 3*ms),
				ptesting.NewMember("s1"), ptesting.NewMember("s2"),
				ptesting.NewMember("s3").Latency("c1", 3*ms, 9*ms),
				ptesting.NewMember("s4"),
			},
			raw:  map[string]int64{"c1": 0, "s1": 1000, "s2": 2000, "s3": 3000, "s4": -1},
			want: map[string]int64{"c1": 100, "s1": 66, "s2": 33, "s3": 0, "s4": 0},
		},
		{
			name:    "all equal: 100",
			svc:     svc,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1").Latency("c1", ms, ms), ptesting.NewMember("s2").Latency("c1", ms, ms)},
			want:    map[string]int64{"s1": 100, "s2": 100},
		},
		{
			name:    "all unknown: 0",
			svc:     svc,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1"), ptesting.NewMember("s2")},
			want:    map[string]int64{"s1": 0, "s2": 0},
		},
	})
}

func TestCapacityHeadroom(t *testing.T) {
	svc := svcOf(ptesting.NewService("t", "s").Replicas(2).Requests("1", "2Gi"))
	runScoreCases(t, plugins.CapacityHeadroomName, []scoreCase{{
		name: "least allocated after placing scores highest",
		svc:  svc,
		members: []*ptesting.MemberBuilder{
			ptesting.NewMember("empty").Pool("p", "8", "16Gi"),                                // after: 2/8 cpu, 4/16 mem -> 75
			ptesting.NewMember("half").Pool("p", "8", "16Gi", ptesting.Requested("2", "4Gi")), // after: 4/8, 8/16 -> 50
			ptesting.NewMember("best-pool").Pool("small", "2", "4Gi").Pool("big", "20", "40Gi"),
			ptesting.NewMember("full").Pool("p", "8", "16Gi", ptesting.Requested("8", "16Gi")),
			ptesting.NewMember("nopools"),
		},
		// best-pool: big pool after: 2/20, 4/40 -> 90.
		want: map[string]int64{"empty": 75, "half": 50, "best-pool": 90, "full": 0, "nopools": 0},
	}})
}

func TestSpread(t *testing.T) {
	svc := svcOf(ptesting.NewService("t", "s"))
	svc.TenantPlacements = map[string]int32{"a": 4, "b": 1}
	members := []*ptesting.MemberBuilder{ptesting.NewMember("a"), ptesting.NewMember("b"), ptesting.NewMember("c")}
	runScoreCases(t, plugins.SpreadName, []scoreCase{
		{
			name: "fewer services of the tenant score higher", svc: svc, members: members,
			raw:  map[string]int64{"a": 4, "b": 1, "c": 0},
			want: map[string]int64{"a": 0, "b": 75, "c": 100},
		},
		{
			name: "no placements: all 100", svc: svcOf(ptesting.NewService("t", "s")), members: members,
			want: map[string]int64{"a": 100, "b": 100, "c": 100},
		},
	})
}

func TestPreferNoPlace(t *testing.T) {
	svc := svcOf(ptesting.NewService("t", "s"))
	members := []*ptesting.MemberBuilder{
		ptesting.NewMember("clean"),
		ptesting.NewMember("soft").Taint("drain", "", fleetv1alpha1.TaintPreferNoPlace),
		ptesting.NewMember("hard").Taint("drain", "", fleetv1alpha1.TaintNoPlace),
	}
	runScoreCases(t, plugins.PreferNoPlaceName, []scoreCase{
		{name: "PreferNoPlace is penalised", svc: svc, members: members, want: map[string]int64{"clean": 100, "soft": 0, "hard": 100}},
		{
			name: "tolerated", svc: svc, members: members, args: `{"tolerations":[{"key":"drain","operator":"Exists"}]}`,
			want: map[string]int64{"clean": 100, "soft": 100, "hard": 100},
		},
	})
}

func TestScoreFactoriesRejectArgs(t *testing.T) {
	for _, name := range []string{plugins.CoLocationName, plugins.SteadyName, plugins.LatencyName, plugins.CapacityHeadroomName, plugins.SpreadName} {
		t.Run(name, func(t *testing.T) {
			_, err := plugins.NewInTreeRegistry()[name](json.RawMessage(`{"weight":3}`))
			NewWithT(t).Expect(err).To(MatchError("args.weight: unknown field"))
		})
	}
}

func TestRegistryNamesMatchPlugins(t *testing.T) {
	g := NewWithT(t)
	for name, f := range plugins.NewInTreeRegistry() {
		p, err := f(nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(p.Name()).To(Equal(name))
	}
}
