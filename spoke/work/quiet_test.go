package work_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// settle waits until the spoke sent no request for quiet, and at most
// timeout.
func settle(quiet time.Duration) {
	deadline := time.Now().Add(timeout)
	last := format(memberRequests.snapshot()) + format(hubRequests.snapshot())
	stableSince := time.Now()
	for time.Now().Before(deadline) && time.Since(stableSince) < quiet {
		time.Sleep(100 * time.Millisecond)
		if cur := format(memberRequests.snapshot()) + format(hubRequests.snapshot()); cur != last {
			last, stableSince = cur, time.Now()
		}
	}
}

// TestConvergedWorksAreQuiet converges three works, then pokes everything
// the spoke watches the way a live cluster does (an annotation added to a
// rendered Service by someone else, a status update of the StatefulSet, a
// label on the work) and lets several periodic resyncs pass: the spoke
// sends no mutating request to either cluster. It prints the requests it
// took to converge and those of the idle window.
func TestConvergedWorksAreQuiet(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	settle(time.Second)
	hub0, member0 := hubRequests.snapshot(), memberRequests.snapshot()

	works := []*fleetv1alpha1.ServiceWork{
		providerWork(g, "quiet-cache", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyRetain, "quiet-app"),
		providerWork(g, "quiet-db", fleetv1alpha1.EnginePostgreSQL, "16", fleetv1alpha1.DeletionPolicyRetain, "quiet-app", "quiet-app2"),
		providerWork(g, "quiet-mq", fleetv1alpha1.EngineRabbitMQ, "3.13", fleetv1alpha1.DeletionPolicyRetain, "quiet-app"),
	}
	for _, w := range works {
		markStatefulSetReady(g, client.ObjectKey{Namespace: render.PlatformNamespace(w.Spec.ServiceRef), Name: w.Spec.ServiceRef.Name})
	}
	for _, w := range works {
		g.Eventually(workCondition(client.ObjectKeyFromObject(w), fleetv1alpha1.ConditionAvailable), timeout, interval).Should(Equal(metav1.ConditionTrue))
	}
	settle(time.Second)
	hub1, member1 := hubRequests.snapshot(), memberRequests.snapshot()
	convergeHub, convergeMember := diff(hub0, hub1), diff(member0, member1)
	t.Logf("Converging %d works: member total %d writes %d: %s", len(works), total(convergeMember), writes(convergeMember), format(convergeMember))
	t.Logf("Converging %d works: hub total %d writes %d: %s", len(works), total(convergeHub), writes(convergeHub), format(convergeHub))
	t.Logf("Per work: %.1f member requests (%.1f writes), %.1f hub requests (%.1f writes)",
		float64(total(convergeMember))/3, float64(writes(convergeMember))/3, float64(total(convergeHub))/3, float64(writes(convergeHub))/3)

	// Poke what the spoke watches.
	w := works[0]
	pns := render.PlatformNamespace(w.Spec.ServiceRef)
	svc := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "quiet-app", Name: "quiet-cache"}, svc)).To(Succeed())
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations["example.com/seen-by"] = "a mesh"
	g.Expect(k8sClient.Update(ctx, svc)).To(Succeed())
	sts := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "quiet-cache"}, sts)).To(Succeed())
	sts.Status.CurrentRevision = "quiet-cache-7d9f"
	g.Expect(k8sClient.Status().Update(ctx, sts)).To(Succeed())
	hw := getWork(g, client.ObjectKeyFromObject(w))
	hw.Labels = map[string]string{"example.com/audited": "true"}
	g.Expect(k8sClient.Update(ctx, hw)).To(Succeed())

	window := 3 * testResync
	time.Sleep(window)
	hub2, member2 := hubRequests.snapshot(), memberRequests.snapshot()
	idleHub, idleMember := diff(hub1, hub2), diff(member1, member2)
	t.Logf("Idle %s (about %d resyncs of every work): member %s", window, int(window/testResync), format(idleMember))
	t.Logf("Idle %s: hub %s", window, format(idleHub))
	g.Expect(writes(idleMember)).To(BeZero(), "no write to the member at rest: %s", format(idleMember))
	g.Expect(writes(idleHub)).To(BeZero(), "no write to the hub at rest: %s", format(idleHub))

	// One full reconcile of each work (an annotation change wakes the
	// apply and status controllers): reads from the caches, no write.
	for _, w := range works {
		cur := getWork(g, client.ObjectKeyFromObject(w))
		cur.Annotations = map[string]string{"example.com/touch": "1"}
		g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	}
	settle(time.Second)
	hub3, member3 := hubRequests.snapshot(), memberRequests.snapshot()
	touchHub, touchMember := diff(hub2, hub3), diff(member2, member3)
	t.Logf("One reconcile of each of %d works: member total %d writes %d: %s", len(works), total(touchMember), writes(touchMember), format(touchMember))
	t.Logf("One reconcile of each of %d works: hub total %d writes %d: %s", len(works), total(touchHub), writes(touchHub), format(touchHub))
	g.Expect(writes(touchMember)).To(BeZero())
	g.Expect(writes(touchHub)).To(BeZero())

	// The drift that matters is still seen: a changed field of berth's is
	// set back.
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "quiet-app", Name: "quiet-cache"}, svc)).To(Succeed())
	svc.Spec.ExternalName = "evil.example.com"
	g.Expect(k8sClient.Update(ctx, svc)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKey{Namespace: "quiet-app", Name: "quiet-cache"}, svc)
		return svc.Spec.ExternalName
	}, timeout, interval).Should(HaveSuffix(pns + ".svc.cluster.local"))

	for _, w := range works {
		g.Expect(k8sClient.Delete(ctx, getWork(g, client.ObjectKeyFromObject(w)))).To(Succeed())
		g.Eventually(workCondition(client.ObjectKeyFromObject(w), fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
		releaseWork(g, client.ObjectKeyFromObject(w))
	}
}

// total sums counts.
func total(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}
