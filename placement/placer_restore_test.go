package placement_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement"
	ptesting "github.com/berth-io/berth/placement/testing"
)

func TestDecideRestoresTheRecordedDecision(t *testing.T) {
	decidedAt := metav1.NewTime(now.Add(-72 * time.Hour))
	recorded := func(cluster string, s fleetv1alpha1.Strategy) *fleetv1alpha1.PlacementDecision {
		return &fleetv1alpha1.PlacementDecision{Cluster: cluster, Strategy: s, DecidedAt: &decidedAt}
	}
	// A Workload service of consumer c1: a fresh decision would pick c1.
	unplaced := ptesting.NewService("t", "a").Consumer("c1").Requests("1", "1Gi")
	testCases := []struct {
		name          string
		svc           *ptesting.ServiceBuilder
		recorded      *fleetv1alpha1.PlacementDecision
		replace       bool
		wantOutcome   placement.Outcome
		wantCluster   string
		wantRestored  bool
		wantReason    string
		wantBetter    string
		wantInMessage string
	}{
		{
			name: "status lost: kept where the binding says, not placed afresh", svc: unplaced,
			recorded: recorded("s2", fleetv1alpha1.StrategyDedicated), wantOutcome: placement.OutcomeKept, wantCluster: "s2",
			wantRestored: true, wantReason: fleetv1alpha1.ReasonFallback, wantBetter: "c1",
			wantInMessage: "restored from the provider ServiceWork on s2 after status.placement was lost",
		},
		{
			name: "recorded under the base strategy", svc: unplaced,
			recorded: recorded("c1", fleetv1alpha1.StrategyWorkload), wantOutcome: placement.OutcomeKept, wantCluster: "c1",
			wantRestored: true, wantReason: fleetv1alpha1.ReasonScheduled, wantInMessage: "Placed on c1 by strategy Workload; restored",
		},
		{
			name: "recorded cluster gone: still kept", svc: unplaced,
			recorded: recorded("s9", fleetv1alpha1.StrategyDedicated), wantOutcome: placement.OutcomeClusterGone, wantCluster: "s9",
			wantRestored: true, wantReason: fleetv1alpha1.ReasonFallback, wantInMessage: "which no longer exists",
		},
		{
			name: "status wins over the record", svc: ptesting.NewService("t", "a").Consumer("c1").Requests("1", "1Gi").PlacedOn("c1", fleetv1alpha1.StrategyWorkload),
			recorded: recorded("s2", fleetv1alpha1.StrategyDedicated), wantOutcome: placement.OutcomeKept, wantCluster: "c1",
			wantReason: fleetv1alpha1.ReasonScheduled,
		},
		{
			name: "replace decides afresh", svc: unplaced, replace: true,
			recorded: recorded("s2", fleetv1alpha1.StrategyDedicated), wantOutcome: placement.OutcomePlaced, wantCluster: "c1",
			wantRestored: true, wantReason: fleetv1alpha1.ReasonScheduled,
		},
		{
			name: "no record: placed afresh", svc: unplaced,
			wantOutcome: placement.OutcomePlaced, wantCluster: "c1", wantReason: fleetv1alpha1.ReasonScheduled,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			d, err := newPlacer(t).Decide(context.Background(), placement.Request{
				Service: svc(tc.svc), Snapshot: fleet(), Recorded: tc.recorded, Replace: tc.replace,
			}, now)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Outcome).To(Equal(tc.wantOutcome))
			g.Expect(d.Placement.Cluster).To(Equal(tc.wantCluster))
			g.Expect(d.Restored).To(Equal(tc.wantRestored))
			g.Expect(d.Placed).To(BeTrue())
			g.Expect(d.Reason).To(Equal(tc.wantReason))
			g.Expect(d.Placement.BetterCandidate).To(Equal(tc.wantBetter))
			g.Expect(d.Message).To(ContainSubstring(tc.wantInMessage))
			if tc.wantRestored && !tc.replace {
				g.Expect(d.Previous).To(Equal(tc.recorded.Cluster))
				g.Expect(d.Placement.DecidedAt.Equal(&decidedAt)).To(BeTrue(), "the decision time is the recorded one")
				g.Expect(d.Placement.Strategy).To(Equal(tc.recorded.Strategy))
			}
			if tc.replace {
				g.Expect(d.Previous).To(Equal("s2"))
			}
		})
	}
}
