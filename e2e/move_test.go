//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// dataMark is an annotation the tests put on a provider's volume to stand
// for the data in it.
const dataMark = "e2e.berth.io/data"

// markData annotates every volume of ms's platform namespace on member and
// returns their names.
func markData(g Gomega, member string, ms *fleetv1alpha1.ManagedService) []string {
	c := env.Members[member].Client
	ns := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: ms.Namespace, Name: ms.Name})
	var names []string
	g.Eventually(func() int { return len(pvcsIn(g, c, ns)) }, readyTimeout, poll).Should(BeNumerically(">", 0))
	for _, p := range pvcsIn(g, c, ns) {
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"orders"}}}`, dataMark)
		g.Expect(c.Patch(context.Background(), &p, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		names = append(names, p.Namespace+"/"+p.Name)
	}
	return names
}

// expectData checks that the marked volumes are still there, not being
// deleted.
func expectData(g Gomega, member string, names []string) {
	c := env.Members[member].Client
	for _, n := range names {
		ns, name, _ := strings.Cut(n, "/")
		p := &corev1.PersistentVolumeClaim{}
		g.Expect(c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed(), "volume %s on %s", n, member)
		g.Expect(p.DeletionTimestamp).To(BeNil(), "volume %s on %s is being deleted", n, member)
		g.Expect(p.Annotations).To(HaveKeyWithValue(dataMark, "orders"))
	}
}

// providerOfConsumer is the provider cluster the consumer's work is bound
// to.
func providerOfConsumer(g Gomega, ms *fleetv1alpha1.ManagedService) string {
	w := &fleetv1alpha1.ServiceWork{}
	key := client.ObjectKey{Namespace: fleetv1alpha1.MemberNamespace(ms.Spec.Consumer.Cluster), Name: fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name)}
	g.Expect(env.Hub.Get(context.Background(), key, w)).To(Succeed())
	if w.Spec.Provider == nil {
		return ""
	}
	return w.Spec.Provider.Cluster
}

func movingCondition(g Gomega, ms *fleetv1alpha1.ManagedService) *metav1.Condition {
	got := &fleetv1alpha1.ManagedService{}
	g.Expect(env.Hub.Get(context.Background(), client.ObjectKeyFromObject(ms), got)).To(Succeed())
	return meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionMoving)
}

// TestMoveWaitsForTargetAndAcknowledgement: a co-located PostgreSQL with
// data is re-placed onto the services cluster. The old provider stays, and
// the consumer keeps using it, until the new provider is Ready and the move
// is acknowledged for exactly that cluster; only then the consumer switches
// and the old provider goes, under Retain keeping its volumes.
func TestMoveWaitsForTargetAndAcknowledgement(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	ms := service("move-db", fleetv1alpha1.EnginePostgreSQL, "16", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	waitReady(t, g, ms)
	data := markData(g, "workload-1", ms)
	g.Expect(providerOfConsumer(g, ms)).To(Equal("workload-1"))

	start := time.Now()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"e2e move"}},"spec":{"placement":{"strategy":"Dedicated"}}}`, fleetv1alpha1.AnnotationReplace)
	g.Expect(env.Hub.Patch(ctx, ms, client.RawPatch(types.MergePatchType, patch))).To(Succeed())

	// The new provider comes up; the move then waits for the acknowledgement.
	g.Eventually(func() string {
		c := movingCondition(g, ms)
		if c == nil {
			return ""
		}
		return c.Reason
	}, readyTimeout, poll).Should(Equal(fleetv1alpha1.ReasonMoveWaitingForAcknowledgement))
	t.Logf("New provider Ready, move waiting for acknowledgement after %s", time.Since(start).Round(100*time.Millisecond))
	moving := movingCondition(g, ms)
	g.Expect(moving.Message).To(ContainSubstring("services-1"))
	g.Expect(moving.Message).To(ContainSubstring(fleetv1alpha1.AnnotationAcceptMove))

	// A wrong acknowledgement approves nothing, and nothing moves meanwhile.
	ack := func(cluster string) {
		p := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, fleetv1alpha1.AnnotationAcceptMove, cluster)
		g.Expect(env.Hub.Patch(ctx, ms, client.RawPatch(types.MergePatchType, p))).To(Succeed())
	}
	ack("mgmt")
	g.Consistently(func() string { return providerOfConsumer(g, ms) }, 10*time.Second, poll).Should(Equal("workload-1"))
	g.Expect(movingCondition(g, ms).Reason).To(Equal(fleetv1alpha1.ReasonMoveWaitingForAcknowledgement))
	expectData(g, "workload-1", data)
	// The app's Service is still the local alias of the old provider.
	bindingType := func() corev1.ServiceType {
		svc := &corev1.Service{}
		g.Expect(env.Members["workload-1"].Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "move-db"}, svc)).To(Succeed())
		return svc.Spec.Type
	}
	g.Expect(bindingType()).To(Equal(corev1.ServiceTypeExternalName))

	ackAt := time.Now()
	ack("services-1")
	g.Eventually(func() string {
		c := movingCondition(g, ms)
		if c == nil {
			return ""
		}
		return string(c.Status) + "/" + c.Reason
	}, readyTimeout, poll).Should(Equal("False/" + fleetv1alpha1.ReasonMoveCompleted))
	t.Logf("Move completed %s after the acknowledgement", time.Since(ackAt).Round(100*time.Millisecond))
	g.Expect(providerOfConsumer(g, ms)).To(Equal("services-1"))
	waitReady(t, g, ms)
	// The app's Service (same name) now leads to the remote provider: a
	// selector-less Service with an EndpointSlice instead of the local
	// alias. The old volumes are retained.
	g.Eventually(bindingType, readyTimeout, poll).ShouldNot(Equal(corev1.ServiceTypeExternalName))
	expectBinding(g, "workload-1", "shop", "move-db")
	expectData(g, "workload-1", data)
	got := &fleetv1alpha1.ManagedService{}
	g.Expect(env.Hub.Get(ctx, client.ObjectKeyFromObject(ms), got)).To(Succeed())
	g.Expect(got.Annotations).NotTo(HaveKey(fleetv1alpha1.AnnotationAcceptMove))
	g.Expect(env.Hub.Delete(ctx, ms)).To(Succeed())
}

// TestStatusLossMovesNothing: the hub is killed, every ManagedService
// status of a placed service is wiped (a restore without status), and the
// hub restarts with an empty cache. It deletes and moves nothing: the works
// keep their UIDs and generations, and the decision comes back from them.
func TestStatusLossMovesNothing(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	remote := service("lost-remote", fleetv1alpha1.EngineRedis, "7.2", "workload-2", fleetv1alpha1.StrategyDedicated, "cart")
	local := service("lost-local", fleetv1alpha1.EnginePostgreSQL, "16", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	services := []*fleetv1alpha1.ManagedService{remote, local}
	before := map[string]fleetv1alpha1.ServiceWork{}
	for _, ms := range services {
		g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	}
	for _, ms := range services {
		waitReady(t, g, ms)
		for _, w := range worksOf(g, ms) {
			before[w.Namespace+"/"+w.Name] = w
		}
	}
	g.Expect(before).To(HaveLen(3))

	g.Expect(env.Controls.KillHub(ctx)).To(Succeed())
	for _, ms := range services {
		got := &fleetv1alpha1.ManagedService{}
		g.Expect(env.Hub.Get(ctx, client.ObjectKeyFromObject(ms), got)).To(Succeed())
		got.Status = fleetv1alpha1.ManagedServiceStatus{}
		g.Expect(env.Hub.Status().Update(ctx, got)).To(Succeed())
	}
	restart := time.Now()
	g.Expect(env.Controls.StartHub(ctx)).To(Succeed())

	check := func() error {
		for _, ms := range services {
			for _, w := range worksOf(g, ms) {
				old, ok := before[w.Namespace+"/"+w.Name]
				switch {
				case !ok:
					return fmt.Errorf("new work %s/%s", w.Namespace, w.Name)
				case w.UID != old.UID || w.Generation != old.Generation:
					return fmt.Errorf("work %s/%s was replaced or rewritten", w.Namespace, w.Name)
				case w.DeletionTimestamp != nil:
					return fmt.Errorf("work %s/%s is being deleted", w.Namespace, w.Name)
				}
			}
			if n := len(worksOf(g, ms)); n != map[string]int{"lost-remote": 2, "lost-local": 1}[ms.Name] {
				return fmt.Errorf("%s has %d works", ms.Name, n)
			}
		}
		return nil
	}
	g.Consistently(check, 20*time.Second, poll).Should(Succeed())
	for _, ms := range services {
		got := waitReady(t, g, ms)
		want := map[string]string{"lost-remote": "services-1", "lost-local": "workload-1"}[ms.Name]
		g.Expect(got.Status.Placement.Cluster).To(Equal(want))
	}
	g.Expect(check()).To(Succeed())
	t.Logf("Decisions restored from the works and Ready %s after the hub restarted", time.Since(restart).Round(100*time.Millisecond))
	for _, ms := range services {
		g.Expect(env.Hub.Delete(ctx, ms)).To(Succeed())
	}
}

// TestPlatformNamespacesDoNotCollide: shop/orders-db and shop-orders/db
// used to share berth-shop-orders-db; they get two namespaces and both
// become Ready on the same member.
func TestPlatformNamespacesDoNotCollide(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	ensureNamespace(g, env.Hub, "shop")
	ensureNamespace(g, env.Hub, "shop-orders")
	a := service("orders-db", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	a.Namespace = "shop"
	b := service("db", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyWorkload, "cart")
	b.Namespace = "shop-orders"
	for _, ms := range []*fleetv1alpha1.ManagedService{a, b} {
		g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	}
	na := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: a.Namespace, Name: a.Name})
	nb := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: b.Namespace, Name: b.Name})
	g.Expect(na).NotTo(Equal(nb))
	for _, ms := range []*fleetv1alpha1.ManagedService{a, b} {
		waitReady(t, g, ms)
	}
	c := env.Members["workload-1"].Client
	for _, n := range []string{na, nb} {
		g.Expect(c.Get(ctx, client.ObjectKey{Name: n}, &corev1.Namespace{})).To(Succeed())
	}
	expectBinding(g, "workload-1", "shop", "orders-db")
	expectBinding(g, "workload-1", "cart", "db")
	t.Logf("shop/orders-db -> %s, shop-orders/db -> %s", na, nb)
	for _, ms := range []*fleetv1alpha1.ManagedService{a, b} {
		g.Expect(env.Hub.Delete(ctx, ms)).To(Succeed())
	}
}
