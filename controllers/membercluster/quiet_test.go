package membercluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/apimetrics"
)

// TestAvailableMembersAreQuiet registers two members whose spokes renew
// their Leases every second and publish probe endpoints, and counts the
// mutating requests the hub apiserver serves, Leases left out, while the
// Reconciler keeps re-checking the Leases: none may come from the hub.
func TestAvailableMembersAreQuiet(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	members := []string{"quiet-1", "quiet-2"}
	for _, n := range members {
		createMember(t, n, true)
	}
	for i, n := range members {
		eventuallyCondition(t, n, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
		spoke := spokeClient(t, n)
		applySpokeStatus(g, spoke, n, fmt.Sprintf("10.9.0.%d:7000", i+1))
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor(n), Name: LeaseName},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(n), LeaseDurationSeconds: ptr.To(int32(2)), RenewTime: &metav1.MicroTime{Time: time.Now()},
			},
		}
		g.Expect(spoke.Create(ctx, lease)).To(Succeed())
		// The spoke renews every second, as berth-spoke does a third into
		// the Lease's duration.
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				cur := &coordinationv1.Lease{}
				if spoke.Get(ctx, client.ObjectKeyFromObject(lease), cur) != nil {
					continue
				}
				cur.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
				_ = spoke.Update(ctx, cur)
			}
		}()
	}
	for _, n := range members {
		eventuallyCondition(t, n, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh)
	}
	g.Eventually(func(g Gomega) {
		g.Expect(getPeers(g, "quiet-1")).To(HaveKey("quiet-2"))
		g.Expect(getPeers(g, "quiet-2")).To(HaveKey("quiet-1"))
	}, timeout, interval).Should(Succeed())

	// Converged: two scrapes 2 s apart see no mutating request.
	var before apimetrics.Counts
	g.Eventually(func() bool {
		cur, err := apimetrics.Mutating(ctx, env.Config)
		g.Expect(err).NotTo(HaveOccurred())
		quiet := before != nil && len(cur.Sub(before)) == 0
		before = cur
		return quiet
	}, timeout, 2*time.Second).Should(BeTrue(), "the hub did not converge")

	runsBefore := reconcileTotal(g)
	const window = 10 * time.Second
	time.Sleep(window)
	after, err := apimetrics.Mutating(ctx, env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	d := after.Sub(before)
	runs := reconcileTotal(g) - runsBefore
	t.Logf("In %s with %d members renewing their Leases every second: %g membercluster reconciles; mutating requests on the hub apiserver, leases excluded: %g (%s)",
		window, len(members), runs, d.Total(), d)
	g.Expect(runs).To(BeNumerically(">=", 4), "the Lease re-checks must reconcile the members")
	g.Expect(d).To(BeEmpty(), "members at rest write nothing but their Leases: %s", d)
}

// getPeers returns the data of a member's peers ConfigMap.
func getPeers(g Gomega, member string) map[string]string {
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: NamespaceFor(member), Name: PeersConfigMap}, cm)).To(Succeed())
	return cm.Data
}

// reconcileTotal is how many times the membercluster controller reconciled.
func reconcileTotal(g Gomega) float64 {
	mfs, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "membercluster" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
