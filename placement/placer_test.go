package placement_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fleet: consumer c1 (4 cpu), another workload cluster c2, the management
// cluster hub and two services clusters; s1 is closer to c1, s2 is bigger.
func fleet(mods ...func(map[string]*ptesting.MemberBuilder)) *framework.Snapshot {
	bs := map[string]*ptesting.MemberBuilder{
		"c1":  ptesting.NewMember("c1").Pool("default", "4", "8Gi").Latency("s1", 1*time.Millisecond, 2*time.Millisecond).Latency("s2", 3*time.Millisecond, 6*time.Millisecond).Latency("hub", 2*time.Millisecond, 4*time.Millisecond),
		"c2":  ptesting.NewMember("c2").Pool("default", "64", "256Gi"),
		"hub": ptesting.NewMember("hub").Role(fleetv1alpha1.RoleManagement).Pool("default", "16", "64Gi"),
		"s1":  ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi"),
		"s2":  ptesting.NewMember("s2").Role(fleetv1alpha1.RoleServices).Pool("default", "32", "128Gi"),
	}
	for _, m := range mods {
		m(bs)
	}
	var mcs []*fleetv1alpha1.MemberCluster
	for _, b := range bs {
		mcs = append(mcs, b.Build())
	}
	return framework.NewSnapshot(mcs)
}

func newPlacer(t *testing.T) *placement.Placer {
	t.Helper()
	p, err := placement.NewPlacer(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func compile(t *testing.T, p *placement.Placer, pp *fleetv1alpha1.PlacementPolicy) *placement.Policy {
	t.Helper()
	pol, err := p.CompilePolicy(pp)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

func svc(b *ptesting.ServiceBuilder) *framework.Service { return framework.NewService(b.Build()) }

func TestDecideStrategies(t *testing.T) {
	testCases := []struct {
		name        string
		svc         *ptesting.ServiceBuilder
		wantCluster string
		wantFit     string
	}{
		{name: "Workload goes to the consumer's cluster", svc: ptesting.NewService("t", "a").Requests("1", "1Gi"), wantCluster: "c1", wantFit: "1/5 clusters fit"},
		{name: "Management goes to the management cluster", svc: ptesting.NewService("t", "a").Strategy(fleetv1alpha1.StrategyManagement), wantCluster: "hub", wantFit: "1/5 clusters fit"},
		// s1 has lower latency (weight 3); s2 more headroom (weight 2).
		{name: "Dedicated goes to the best services cluster", svc: ptesting.NewService("t", "a").Strategy(fleetv1alpha1.StrategyDedicated), wantCluster: "s1", wantFit: "2/5 clusters fit"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			d, err := newPlacer(t).Decide(context.Background(), placement.Request{Service: svc(tc.svc), Snapshot: fleet()}, now)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Outcome).To(Equal(placement.OutcomePlaced))
			g.Expect(d.Placed).To(BeTrue())
			g.Expect(d.Reason).To(Equal(fleetv1alpha1.ReasonScheduled))
			g.Expect(d.Placement.Cluster).To(Equal(tc.wantCluster))
			g.Expect(d.Placement.Strategy).To(Equal(tc.svc.Build().Spec.Placement.Strategy))
			g.Expect(d.Placement.DecidedAt.Time).To(Equal(now))
			g.Expect(d.Placement.Candidates[0].Cluster).To(Equal(tc.wantCluster))
			g.Expect(d.Placement.Candidates).To(HaveLen(5))
			g.Expect(d.Message).To(ContainSubstring(tc.wantFit))
			g.Expect(d.Attempts).To(HaveLen(1))
		})
	}
}

func TestDecideWorkloadWithoutCapacityStaysUnplaced(t *testing.T) {
	g := NewWithT(t)
	s := svc(ptesting.NewService("t", "a").Replicas(3).Requests("2", "1Gi"))
	d, err := newPlacer(t).Decide(context.Background(), placement.Request{Service: s, Snapshot: fleet()}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Outcome).To(Equal(placement.OutcomeUnschedulable))
	g.Expect(d.Placed).To(BeFalse())
	g.Expect(d.Reason).To(Equal(fleetv1alpha1.ReasonUnschedulable))
	g.Expect(d.Placement.Cluster).To(BeEmpty())
	g.Expect(d.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyWorkload))
	g.Expect(d.Message).To(Equal("strategy Workload: 0/5 clusters fit: CapacityFit rejected 1 (c1: pool default: needs 6 cpu, 4 free); " +
		"StrategyRole rejected 4 (c2: not the consumer cluster c1 (strategy Workload)); no fallback strategy is allowed"))
	g.Expect(d.Placement.Candidates[0]).To(Equal(fleetv1alpha1.Candidate{Cluster: "c1", Reason: "CapacityFit: pool default: needs 6 cpu, 4 free"}))
}

func TestDecideFallback(t *testing.T) {
	g := NewWithT(t)
	p := newPlacer(t)
	pol := compile(t, p, ptesting.NewPolicy("spill").Fallback(fleetv1alpha1.StrategyDedicated).Build())
	s := svc(ptesting.NewService("t", "a").Replicas(3).Requests("2", "1Gi").Policy("spill"))
	d, err := p.Decide(context.Background(), placement.Request{Service: s, Policy: pol, Snapshot: fleet()}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Outcome).To(Equal(placement.OutcomePlaced))
	g.Expect(d.Reason).To(Equal(fleetv1alpha1.ReasonFallback))
	g.Expect(d.Placement.Cluster).To(Equal("s1"))
	g.Expect(d.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
	g.Expect(d.Placement.Policy).To(Equal("spill"))
	g.Expect(d.Attempts).To(HaveLen(2))
	g.Expect(d.Message).To(HavePrefix("Placed on s1 by fallback strategy Dedicated with score"))
	g.Expect(d.Message).To(ContainSubstring("strategy Workload: 0/5 clusters fit: CapacityFit rejected 1"))

	// The same service without the policy is not moved to Dedicated.
	d, err = p.Decide(context.Background(), placement.Request{Service: s, Snapshot: fleet()}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Outcome).To(Equal(placement.OutcomeUnschedulable))

	// Both strategies failing lists both.
	big := svc(ptesting.NewService("t", "a").Replicas(3).Requests("64", "1Gi"))
	d, err = p.Decide(context.Background(), placement.Request{Service: big, Policy: pol, Snapshot: fleet()}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Outcome).To(Equal(placement.OutcomeUnschedulable))
	g.Expect(d.Message).To(ContainSubstring("strategy Workload: 0/5"))
	g.Expect(d.Message).To(ContainSubstring("; strategy Dedicated: 0/5 clusters fit: CapacityFit rejected 2"))
	g.Expect(d.Message).NotTo(ContainSubstring("no fallback"))
}

func TestDecideSticky(t *testing.T) {
	p := newPlacer(t)
	// A policy without Steady, scoring only headroom, so scores move easily.
	headroom := compile(t, p, ptesting.NewPolicy("headroom").Strategy(fleetv1alpha1.StrategyDedicated).Score("CapacityHeadroom", 1).Build())
	placedOn := func(cluster string) *framework.Service {
		return svc(ptesting.NewService("t", "a").Strategy(fleetv1alpha1.StrategyDedicated).Requests("1", "1Gi").PlacedOn(cluster, fleetv1alpha1.StrategyDedicated))
	}
	// s1 is busy: its requested figures include the service placed there.
	busyS1 := func(bs map[string]*ptesting.MemberBuilder) {
		bs["s1"] = ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi", ptesting.Requested("12", "1Gi"))
	}
	drainS2 := func(bs map[string]*ptesting.MemberBuilder) {
		bs["s2"] = ptesting.NewMember("s2").Role(fleetv1alpha1.RoleServices).Pool("default", "32", "128Gi").Taint("maintenance", "", fleetv1alpha1.TaintNoPlace)
	}
	testCases := []struct {
		name          string
		svc           *framework.Service
		policy        *placement.Policy
		snap          *framework.Snapshot
		replace       bool
		wantOutcome   placement.Outcome
		wantCluster   string
		wantBetter    string
		wantInMessage string
	}{
		{
			name: "stays when another cluster scores higher, and says so", svc: placedOn("s1"), policy: headroom, snap: fleet(busyS1),
			wantOutcome: placement.OutcomeKept, wantCluster: "s1", wantBetter: "s2",
			wantInMessage: "s2 (strategy Dedicated, score 98) is a better candidate; set the fleet.berth.io/replace annotation to move",
		},
		{
			name: "no better candidate when it is the best", svc: placedOn("s2"), policy: headroom, snap: fleet(),
			wantOutcome: placement.OutcomeKept, wantCluster: "s2",
		},
		{
			name: "Steady keeps the default profile quiet", svc: placedOn("s2"), snap: fleet(),
			wantOutcome: placement.OutcomeKept, wantCluster: "s2",
		},
		{
			name: "stays on a cluster that no longer fits", svc: placedOn("s2"), policy: headroom, snap: fleet(drainS2),
			wantOutcome: placement.OutcomeKept, wantCluster: "s2", wantBetter: "s1",
			wantInMessage: "s2 no longer passes the filters (Available: taint maintenance:NoPlace is not tolerated)",
		},
		{
			name: "replace moves it", svc: placedOn("s1"), policy: headroom, snap: fleet(busyS1), replace: true,
			wantOutcome: placement.OutcomePlaced, wantCluster: "s2",
		},
		{
			name: "replace without Steady's bonus picks the best", svc: placedOn("s2"), snap: fleet(), replace: true,
			wantOutcome: placement.OutcomePlaced, wantCluster: "s1",
		},
		{
			name: "cluster gone: not moved by itself", svc: placedOn("s9"), snap: fleet(),
			wantOutcome: placement.OutcomeClusterGone, wantCluster: "s9",
			wantInMessage: "Placed on s9, which no longer exists; set the fleet.berth.io/replace annotation to place the service again",
		},
		{
			name: "replace of a cluster that is gone", svc: placedOn("s9"), policy: headroom, snap: fleet(), replace: true,
			wantOutcome: placement.OutcomePlaced, wantCluster: "s2",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			d, err := p.Decide(context.Background(), placement.Request{Service: tc.svc, Policy: tc.policy, Snapshot: tc.snap, Replace: tc.replace}, now)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Outcome).To(Equal(tc.wantOutcome))
			g.Expect(d.Placement.Cluster).To(Equal(tc.wantCluster))
			g.Expect(d.Placement.BetterCandidate).To(Equal(tc.wantBetter))
			g.Expect(d.Message).To(ContainSubstring(tc.wantInMessage))
			switch tc.wantOutcome {
			case placement.OutcomeKept, placement.OutcomeClusterGone:
				g.Expect(d.Placement.DecidedAt.Time).To(Equal(ptesting.MeasuredAt.Time), "the decision time is kept")
			case placement.OutcomePlaced:
				g.Expect(d.Placement.DecidedAt.Time).To(Equal(now))
			}
			g.Expect(d.Placed).To(BeTrue())
		})
	}
}

func TestDecideReplaceWithoutRoom(t *testing.T) {
	g := NewWithT(t)
	s := svc(ptesting.NewService("t", "a").Requests("3", "1Gi").PlacedOn("c1", fleetv1alpha1.StrategyWorkload))
	// c1 is full now; the service's own requests count there, but more came.
	snap := fleet(func(bs map[string]*ptesting.MemberBuilder) {
		bs["c1"] = ptesting.NewMember("c1").Pool("default", "4", "8Gi", ptesting.Requested("4", "1Gi"))
	})
	d, err := newPlacer(t).Decide(context.Background(), placement.Request{Service: s, Snapshot: snap, Replace: true, PlacedReason: fleetv1alpha1.ReasonScheduled}, now)
	g.Expect(err).NotTo(HaveOccurred())
	// On its own cluster its requests are not added again, so it still fits.
	g.Expect(d.Outcome).To(Equal(placement.OutcomePlaced))
	g.Expect(d.Placement.Cluster).To(Equal("c1"))

	snap = fleet(func(bs map[string]*ptesting.MemberBuilder) {
		bs["c1"] = ptesting.NewMember("c1").Pool("default", "4", "8Gi", ptesting.Requested("4", "1Gi")).Available(false)
	})
	d, err = newPlacer(t).Decide(context.Background(), placement.Request{Service: s, Snapshot: snap, Replace: true, PlacedReason: fleetv1alpha1.ReasonScheduled}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Outcome).To(Equal(placement.OutcomeReplaceFailed))
	g.Expect(d.Placement.Cluster).To(Equal("c1"))
	g.Expect(d.Placed).To(BeTrue())
	g.Expect(d.Message).To(HavePrefix("Re-placement found no cluster, staying on c1; strategy Workload: 0/5 clusters fit: Available rejected 1"))
}

func TestCompilePolicy(t *testing.T) {
	p := newPlacer(t)
	testCases := []struct {
		name string
		pp   *fleetv1alpha1.PlacementPolicy
		want []string
	}{
		{
			name: "unknown plugin",
			pp:   ptesting.NewPolicy("p").Filter("StrategyRole", nil).Filter("Magic", nil).Build(),
			want: []string{`spec.filters[1].name: unknown plugin "Magic"`},
		},
		{
			name: "bad args",
			pp:   ptesting.NewPolicy("p").Filter("StrategyRole", nil).Filter("MaxLatency", map[string]any{"allowUnknown": "yes"}).Build(),
			want: []string{"spec.filters[1].args.allowUnknown: must be a boolean"},
		},
		{
			name: "StrategyRole missing",
			pp:   ptesting.NewPolicy("p").Filter("Available", nil).Build(),
			want: []string{"spec.filters: must include StrategyRole"},
		},
		{
			name: "bad weight and fallback",
			pp:   ptesting.NewPolicy("p").Score("Spread", 500).Fallback(fleetv1alpha1.StrategyWorkload, "Anywhere").Build(),
			want: []string{"spec.scores[0].weight: must be 1..100, got 500", "spec.fallback[0]: must not repeat the base strategy Workload", `spec.fallback[1]: must be one of`},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := p.CompilePolicy(tc.pp)
			g.Expect(err).To(HaveOccurred())
			for _, w := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}

	g := NewWithT(t)
	pol, err := p.CompilePolicy(ptesting.NewPolicy("ok").Strategy(fleetv1alpha1.StrategyDedicated).Score("Latency", 0).Candidates(2).Build())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pol.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
	d, err := p.Decide(context.Background(), placement.Request{Service: svc(ptesting.NewService("t", "a")), Policy: pol, Snapshot: fleet()}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated), "the policy's strategy wins over the spec's")
	g.Expect(d.Placement.Candidates).To(HaveLen(2))
	g.Expect(d.Placement.Candidates[0].Scores).To(HaveLen(1))
	g.Expect(d.Placement.Candidates[0].Scores[0].Plugin).To(Equal("Latency"))
}

func TestConcurrentDecisionsShareASnapshot(t *testing.T) {
	g := NewWithT(t)
	p := newPlacer(t)
	fleet := ptesting.Fleet(200, 3)
	snap := framework.NewSnapshot(fleet)
	svcs := ptesting.Services(200, fleet, 4)
	want := make([]string, len(svcs))
	for i, ms := range svcs {
		d, err := p.Decide(context.Background(), placement.Request{Service: framework.NewService(ms), Snapshot: framework.NewSnapshot(fleet)}, now)
		g.Expect(err).NotTo(HaveOccurred())
		want[i] = d.Placement.Cluster + "|" + d.Message
	}
	got := make([]string, len(svcs))
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := w; i < len(svcs); i += 4 {
				d, err := p.Decide(context.Background(), placement.Request{Service: framework.NewService(svcs[i]), Snapshot: snap}, now)
				if err != nil {
					done <- err
					return
				}
				got[i] = d.Placement.Cluster + "|" + d.Message
			}
			done <- nil
		}()
	}
	for range 4 {
		g.Expect(<-done).To(Succeed())
	}
	g.Expect(got).To(Equal(want))
}
