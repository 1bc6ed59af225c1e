package placement_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	ptesting "github.com/berth-io/berth/placement/testing"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

var seq atomic.Int32

// unique returns a fresh DNS label with the prefix.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// createNamespace creates a fresh namespace.
func createNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unique("team")}}
	NewWithT(t).Expect(k8s.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// createMember creates a MemberCluster with its status, and deletes it when
// the test ends, waiting until it is gone.
func createMember(t *testing.T, b *ptesting.MemberBuilder) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	want := b.Build()
	mc := want.DeepCopy()
	mc.Status = fleetv1alpha1.MemberClusterStatus{}
	g.Expect(k8s.Create(ctx, mc)).To(Succeed())
	mc.Status = want.Status
	g.Expect(k8s.Status().Update(ctx, mc)).To(Succeed())
	t.Cleanup(func() {
		_ = k8s.Delete(ctx, mc)
		NewWithT(t).Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(mc), &fleetv1alpha1.MemberCluster{}))
		}, timeout, interval).Should(BeTrue())
	})
}

// updateMember replaces a member's status with the builder's.
func updateMember(t *testing.T, b *ptesting.MemberBuilder) {
	t.Helper()
	want := b.Build()
	NewWithT(t).Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		mc := &fleetv1alpha1.MemberCluster{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: want.Name}, mc); err != nil {
			return err
		}
		mc.Status = want.Status
		return k8s.Status().Update(context.Background(), mc)
	})).To(Succeed())
}

// createPolicy creates a PlacementPolicy and deletes it when the test ends.
func createPolicy(t *testing.T, pp *fleetv1alpha1.PlacementPolicy) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(), pp)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pp) })
}

// createService creates a ManagedService.
func createService(t *testing.T, ms *fleetv1alpha1.ManagedService) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(), ms)).To(Succeed())
}

// getService reads a ManagedService.
func getService(g Gomega, ms *fleetv1alpha1.ManagedService) *fleetv1alpha1.ManagedService {
	out := &fleetv1alpha1.ManagedService{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(ms), out)).To(Succeed())
	return out
}

// placed returns the Placed condition, or an empty one.
func placed(ms *fleetv1alpha1.ManagedService) metav1.Condition {
	if c := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// eventuallyPlaced waits until the Placed condition has the reason, and
// returns the service.
func eventuallyPlaced(t *testing.T, ms *fleetv1alpha1.ManagedService, reason string) *fleetv1alpha1.ManagedService {
	t.Helper()
	var out *fleetv1alpha1.ManagedService
	NewWithT(t).Eventually(func(g Gomega) {
		out = getService(g, ms)
		g.Expect(placed(out).Reason).To(Equal(reason), "Placed: %+v", placed(out))
	}, timeout, interval).Should(Succeed())
	return out
}

// events returns the notes of the Events about an object, as "reason: note".
func events(g Gomega, ms *fleetv1alpha1.ManagedService) []string {
	list := &eventsv1.EventList{}
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(ms.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == ms.Name && e.Regarding.Kind == "ManagedService" {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// eventually waits for an Event whose "reason: note" contains all parts.
func eventuallyEvent(t *testing.T, ms *fleetv1alpha1.ManagedService, parts ...string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		found := false
		for _, e := range events(g, ms) {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(e, p)
			}
			found = found || all
		}
		g.Expect(found).To(BeTrue(), "events: %v", events(g, ms))
	}, timeout, interval).Should(Succeed())
}
