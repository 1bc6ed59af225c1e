package propagation_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/apimetrics"
	ptesting "github.com/berth-io/berth/placement/testing"
)

// TestConvergedServicesAreQuiet converges a co-located and a remote service
// (the spokes simulated by status writes), runs placement next to
// propagation, and then counts the mutating requests the envtest apiserver
// serves while both controllers reconcile again and again: forced
// reconciles, informer resyncs (every syncPeriod) and placement's refresh
// (every second). A converged hub must write nothing.
func TestConvergedServicesAreQuiet(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, ptesting.NewMember("quiet-w").Pool("default", "16", "64Gi"))
	createMember(t, ptesting.NewMember("quiet-s").Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi"))

	colocated := placedService(t, g, "quiet-local", "quiet-w", "quiet-w")
	remote := placedService(t, g, "quiet-remote", "quiet-w", "quiet-s")
	local := workKey("quiet-w", "quiet-local")
	pkey, ckey := workKey("quiet-s", "quiet-remote"), workKey("quiet-w", "quiet-remote")
	g.Eventually(func() error { return k8sClient.Get(ctx, local, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	g.Eventually(func() error { return k8sClient.Get(ctx, ckey, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, local, "")
	reportProvider(g, pkey, "10.2.2.2")
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, ckey).Spec.Provider.CredentialsSecret).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())
	reportConsumer(g, ckey)
	eventuallyReady(t, colocated)
	eventuallyReady(t, remote)

	startPlacement(t, time.Second)
	// Let placement settle the Placed messages of every service in the
	// apiserver, and the spokes' simulated works stop changing.
	g.Eventually(func(g Gomega) {
		for _, ms := range []*fleetv1alpha1.ManagedService{colocated, remote} {
			cur := &fleetv1alpha1.ManagedService{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
			g.Expect(cur.Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("by strategy"))))
		}
	}, timeout, interval).Should(Succeed())
	settle := func() apimetrics.Counts {
		// Converged means two scrapes 2 s apart see no mutating request.
		var last apimetrics.Counts
		g.Eventually(func() bool {
			cur := mutatingRequests(g)
			if last != nil && len(cur.Sub(last)) == 0 {
				return true
			}
			last = cur
			return false
		}, timeout, 2*time.Second).Should(BeTrue(), "the hub did not converge")
		return last
	}
	before := settle()
	g.Expect(before).NotTo(BeEmpty(), "the scrape must see the writes made so far")

	// Forced reconciles of both services, a few resyncs and refreshes.
	const rounds = 5
	start := time.Now()
	propagationBefore, placementBefore := reconciles(g, "propagation"), reconciles(g, "placement")
	for range rounds {
		for _, ms := range []*fleetv1alpha1.ManagedService{colocated, remote} {
			_, err := reconciler.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ms)})
			g.Expect(err).NotTo(HaveOccurred())
		}
		time.Sleep(syncPeriod)
	}
	d := mutatingRequests(g).Sub(before)
	propagationRuns, placementRuns := reconciles(g, "propagation")-propagationBefore, reconciles(g, "placement")-placementBefore
	t.Logf("In %s: %g propagation reconciles (%d forced per service, the rest from resyncs every %s), %g placement reconciles (refresh every second); mutating requests on the hub apiserver, leases excluded: %g (%s)",
		time.Since(start).Round(time.Second), propagationRuns, rounds, syncPeriod, placementRuns, d.Total(), d)
	g.Expect(propagationRuns).To(BeNumerically(">", 2*rounds), "resyncs must reach the Reconciler")
	g.Expect(placementRuns).To(BeNumerically(">=", 2*rounds), "placement must refresh")
	g.Expect(d).To(BeEmpty(), "a converged hub writes nothing: %s", d)
}
