package propagation_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	ptesting "github.com/berth-io/berth/placement/testing"
)

// TestWipedStatusDeletesAndMovesNothing runs the placement controller next
// to propagation. The service runs on a services cluster although a fresh
// Workload decision would pick the consumer's cluster; with its status
// wiped, the hub must delete and move nothing and restore the decision from
// the provider ServiceWork.
func TestWipedStatusDeletesAndMovesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, ptesting.NewMember("wipe-w").Pool("default", "16", "64Gi"))
	createMember(t, ptesting.NewMember("wipe-s").Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi"))
	ms := newService(t, g, "restored", "wipe-w")
	decidedAt := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	ensureNamespace(t, fleetv1alpha1.MemberNamespace("wipe-s"))
	updateStatus(g, ms, func(ms *fleetv1alpha1.ManagedService) {
		ms.Status.Placement = fleetv1alpha1.PlacementDecision{Cluster: "wipe-s", Strategy: fleetv1alpha1.StrategyDedicated, DecidedAt: &decidedAt}
		meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{
			Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonFallback, Message: "Placed on wipe-s by fallback strategy Dedicated",
		})
	})
	pkey, ckey := workKey("wipe-s", "restored"), workKey("wipe-w", "restored")
	g.Eventually(func() error { return k8sClient.Get(ctx, ckey, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	g.Expect(getWork(g, pkey).Annotations).To(HaveKeyWithValue(fleetv1alpha1.AnnotationPlacementStrategy, "Dedicated"))
	reportProvider(g, pkey, "10.1.1.1")
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, ckey).Spec.Provider.CredentialsSecret).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())
	reportConsumer(g, ckey)
	eventuallyReady(t, ms)

	startPlacement(t, time.Second)
	// The placement controller keeps the fallback decision (sticky).
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		c := meta.FindStatusCondition(cur.Status.Conditions, fleetv1alpha1.ConditionPlaced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Message).To(ContainSubstring("Placed on wipe-s by fallback strategy Dedicated"))
		g.Expect(cur.Status.Placement.BetterCandidate).To(Equal("wipe-w"), "a fresh decision would move the service")
	}, timeout, interval).Should(Succeed())
	before := snapshotWorks(g, "restored")
	g.Expect(before).To(HaveLen(2))

	// Wipe the status, as a restore without status would.
	updateStatus(g, ms, func(ms *fleetv1alpha1.ManagedService) { ms.Status = fleetv1alpha1.ManagedServiceStatus{} })

	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(cur.Status.Placement.Cluster).To(Equal("wipe-s"))
		g.Expect(cur.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
		g.Expect(cur.Status.Placement.DecidedAt.Equal(&decidedAt)).To(BeTrue())
		c := meta.FindStatusCondition(cur.Status.Conditions, fleetv1alpha1.ConditionPlaced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(fleetv1alpha1.ReasonFallback))
		g.Expect(condition(cur, fleetv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		g.Expect(meta.FindStatusCondition(cur.Status.Conditions, fleetv1alpha1.ConditionMoving)).To(BeNil())
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, ms, "PlacementRestored", "restored the decision wipe-s from the provider ServiceWork")
	g.Consistently(func(g Gomega) {
		g.Expect(snapshotWorks(g, "restored")).To(Equal(before), "no work may be created, rewritten or deleted")
	}, 3*time.Second, 200*time.Millisecond).Should(Succeed())
}
