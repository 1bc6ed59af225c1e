//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

func setup(t *testing.T) Gomega {
	g := NewWithT(t)
	g.Expect(WaitForMembersAvailable(context.Background(), env.Hub, allMembers, 3*time.Minute)).To(Succeed())
	ensureNamespace(g, env.Hub, "team")
	for _, m := range []string{"workload-1", "workload-2"} {
		for _, ns := range []string{"shop", "cart", "app"} {
			ensureNamespace(g, env.Members[m].Client, ns)
		}
	}
	return g
}

func worksOf(g Gomega, ms *fleetv1alpha1.ManagedService) []fleetv1alpha1.ServiceWork {
	list := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(env.Hub.List(context.Background(), list, client.MatchingLabels{
		fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
	})).To(Succeed())
	return list.Items
}

func placedCondition(ms *fleetv1alpha1.ManagedService) *metav1.Condition {
	_ = env.Hub.Get(context.Background(), client.ObjectKeyFromObject(ms), ms)
	return meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced)
}

// TestEveryEngineUnderEveryStrategy places each engine with each strategy.
func TestEveryEngineUnderEveryStrategy(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	engines := []struct {
		engine  fleetv1alpha1.Engine
		version string
	}{{fleetv1alpha1.EnginePostgreSQL, "16"}, {fleetv1alpha1.EngineRedis, "7.2"}, {fleetv1alpha1.EngineRabbitMQ, "3.13"}}
	strategies := map[fleetv1alpha1.Strategy]string{
		fleetv1alpha1.StrategyWorkload: "workload-1", fleetv1alpha1.StrategyManagement: "mgmt", fleetv1alpha1.StrategyDedicated: "services-1",
	}
	var all []*fleetv1alpha1.ManagedService
	for _, e := range engines {
		for s := range strategies {
			ms := service(fmt.Sprintf("m-%s-%s", strings.ToLower(string(e.engine))[:4], strings.ToLower(string(s))[:4]), e.engine, e.version, "workload-1", s, "app")
			g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
			all = append(all, ms)
		}
	}
	for _, ms := range all {
		got := waitReady(t, g, ms)
		g.Expect(got.Status.Placement.Cluster).To(Equal(strategies[ms.Spec.Placement.Strategy]), ms.Name)
		expectBinding(g, "workload-1", "app", ms.Name)
	}
}

// TestHubKilledMidRollout: SIGKILL the hub right after creating services;
// a new hub converges with every service Ready and no duplicate works.
func TestHubKilledMidRollout(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	var all []*fleetv1alpha1.ManagedService
	for i, s := range []fleetv1alpha1.Strategy{fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyDedicated, fleetv1alpha1.StrategyManagement} {
		for j := range 2 {
			ms := service(fmt.Sprintf("kill-%d-%d", i, j), fleetv1alpha1.EngineRedis, "7.2", "workload-2", s, "cart")
			g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
			all = append(all, ms)
		}
	}
	time.Sleep(500 * time.Millisecond)
	g.Expect(env.Controls.KillHub(ctx)).To(Succeed())
	time.Sleep(2 * time.Second)
	g.Expect(env.Controls.StartHub(ctx)).To(Succeed())
	for _, ms := range all {
		got := waitReady(t, g, ms)
		want := 2
		if got.Status.Placement.Cluster == "workload-2" {
			want = 1
		}
		g.Expect(worksOf(g, got)).To(HaveLen(want), "%s on %s", got.Name, got.Status.Placement.Cluster)
	}
}

// TestSpokeCutOffKeepsServices: a provider spoke that is gone leaves its
// services running; a spec change waits and converges once it is back.
func TestSpokeCutOffKeepsServices(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	ms := service("cutoff", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyDedicated, "shop")
	g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	ms = waitReady(t, g, ms)
	pns := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "team", Name: "cutoff"})
	services := env.Members["services-1"].Client

	g.Expect(env.Controls.StopSpoke(ctx, "services-1")).To(Succeed())
	ms.Spec.Replicas = 3
	g.Expect(env.Hub.Update(ctx, ms)).To(Succeed())
	g.Consistently(func() error {
		return services.Get(ctx, client.ObjectKey{Namespace: pns, Name: "cutoff"}, &appsv1.StatefulSet{})
	}, 15*time.Second, time.Second).Should(Succeed(), "the service keeps running while its spoke is away")
	sts := &appsv1.StatefulSet{}
	g.Expect(services.Get(ctx, client.ObjectKey{Namespace: pns, Name: "cutoff"}, sts)).To(Succeed())
	g.Expect(*sts.Spec.Replicas).To(Equal(int32(1)), "nothing changes without the spoke")

	g.Expect(env.Controls.StartSpoke(ctx, "services-1")).To(Succeed())
	g.Eventually(func() int32 {
		_ = services.Get(ctx, client.ObjectKey{Namespace: pns, Name: "cutoff"}, sts)
		return *sts.Spec.Replicas
	}, readyTimeout, poll).Should(Equal(int32(3)))
	got := waitReady(t, g, ms)
	g.Eventually(func() int64 {
		_ = env.Hub.Get(ctx, client.ObjectKeyFromObject(ms), got)
		return got.Status.ObservedGeneration
	}, readyTimeout, poll).Should(Equal(got.Generation))
}

// TestTaintsAndCapacityAffectOnlyNewPlacements: placements are sticky.
func TestTaintsAndCapacityAffectOnlyNewPlacements(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	before := service("sticky", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyDedicated, "shop")
	g.Expect(env.Hub.Create(ctx, before)).To(Succeed())
	waitReady(t, g, before)

	mc := &fleetv1alpha1.MemberCluster{}
	g.Expect(env.Hub.Get(ctx, clientKey("services-1"), mc)).To(Succeed())
	patch := client.MergeFrom(mc.DeepCopy())
	mc.Spec.Taints = append(mc.Spec.Taints, fleetv1alpha1.MemberTaint{Key: "maintenance", Effect: fleetv1alpha1.TaintNoPlace})
	g.Expect(env.Hub.Patch(ctx, mc, patch)).To(Succeed())

	after := service("after-taint", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyDedicated, "shop")
	g.Expect(env.Hub.Create(ctx, after)).To(Succeed())
	g.Eventually(func() string {
		c := placedCondition(after)
		if c == nil {
			return ""
		}
		return string(c.Status) + " " + c.Message
	}, time.Minute, poll).Should(And(HavePrefix("False"), ContainSubstring("maintenance")))
	g.Consistently(func() string {
		_ = env.Hub.Get(ctx, client.ObjectKeyFromObject(before), before)
		return before.Status.Placement.Cluster
	}, 5*time.Second, poll).Should(Equal("services-1"), "the running service stays")

	big := service("too-big", fleetv1alpha1.EnginePostgreSQL, "16", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	big.Spec.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("500")
	g.Expect(env.Hub.Create(ctx, big)).To(Succeed())
	g.Eventually(func() string {
		c := placedCondition(big)
		if c == nil {
			return ""
		}
		return string(c.Status) + " " + c.Message
	}, time.Minute, poll).Should(And(HavePrefix("False"), ContainSubstring("cpu")))
	g.Expect(big.Status.Placement.Cluster).To(BeEmpty(), "Workload is never silently moved elsewhere")

	g.Expect(env.Hub.Get(ctx, clientKey("services-1"), mc)).To(Succeed())
	patch = client.MergeFrom(mc.DeepCopy())
	var kept []fleetv1alpha1.MemberTaint
	for _, tn := range mc.Spec.Taints {
		if tn.Key != "maintenance" {
			kept = append(kept, tn)
		}
	}
	mc.Spec.Taints = kept
	g.Expect(env.Hub.Patch(ctx, mc, patch)).To(Succeed())
	got := waitReady(t, g, after)
	g.Expect(got.Status.Placement.Cluster).To(Equal("services-1"))
}

// TestDriftAndConflictOnTheFleet: rendered objects come back after an edit
// or a deletion; a foreign object blocks and is left untouched.
func TestDriftAndConflictOnTheFleet(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	w1 := env.Members["workload-1"].Client
	ms := service("drift", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	waitReady(t, g, ms)

	svc := &corev1.Service{}
	g.Expect(w1.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "drift"}, svc)).To(Succeed())
	g.Expect(w1.Delete(ctx, svc)).To(Succeed())
	deleted := time.Now()
	g.Eventually(func() error {
		return w1.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "drift"}, &corev1.Service{})
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	t.Logf("Deleted binding Service restored after %s", time.Since(deleted).Round(10*time.Millisecond))

	foreign := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "taken"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 1234}}},
	}
	g.Expect(w1.Create(ctx, foreign)).To(Succeed())
	blocked := service("taken", fleetv1alpha1.EngineRedis, "7.2", "workload-1", fleetv1alpha1.StrategyWorkload, "shop")
	g.Expect(env.Hub.Create(ctx, blocked)).To(Succeed())
	g.Eventually(func() string {
		_ = env.Hub.Get(ctx, client.ObjectKeyFromObject(blocked), blocked)
		c := meta.FindStatusCondition(blocked.Status.Conditions, fleetv1alpha1.ConditionPropagated)
		if c == nil {
			return ""
		}
		return c.Reason + " " + c.Message
	}, readyTimeout, poll).Should(And(HavePrefix(fleetv1alpha1.ReasonObjectConflict), ContainSubstring("Service shop/taken")))
	g.Expect(w1.Get(ctx, client.ObjectKeyFromObject(foreign), foreign)).To(Succeed())
	g.Expect(foreign.Spec.Ports[0].Port).To(Equal(int32(1234)))
	g.Expect(foreign.Labels).NotTo(HaveKey(fleetv1alpha1.LabelServiceWork))
}

// TestPropagationLatency measures, over 50 services, create -> Propagated
// (every ServiceWork applied by its spoke) and create -> Ready.
func TestPropagationLatency(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	const n = 50
	created := map[string]time.Time{}
	var mu sync.Mutex
	propagated, ready := map[string]time.Duration{}, map[string]time.Duration{}
	for i := range n {
		consumer := []string{"workload-1", "workload-2"}[i%2]
		ms := service(fmt.Sprintf("lat-%02d", i), fleetv1alpha1.EngineRedis, "7.2", consumer, fleetv1alpha1.StrategyWorkload, "app")
		ms.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
		created[ms.Name] = time.Now()
		g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	}
	g.Eventually(func() int {
		list := &fleetv1alpha1.ManagedServiceList{}
		if err := env.Hub.List(ctx, list, client.InNamespace("team")); err != nil {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ms := range list.Items {
			start, ok := created[ms.Name]
			if !ok {
				continue
			}
			if _, seen := propagated[ms.Name]; !seen && meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionPropagated) {
				propagated[ms.Name] = time.Since(start)
			}
			if _, seen := ready[ms.Name]; !seen && meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionReady) {
				ready[ms.Name] = time.Since(start)
			}
		}
		return len(ready)
	}, 10*time.Minute, 200*time.Millisecond).Should(Equal(n))
	p := func(m map[string]time.Duration, q float64) time.Duration {
		var ds []time.Duration
		for _, d := range m {
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[int(q*float64(len(ds)-1))].Round(10 * time.Millisecond)
	}
	t.Logf("Propagation latency over %d services (poll 200ms): create->Propagated p50 %s p99 %s; create->Ready p50 %s p99 %s",
		n, p(propagated, 0.5), p(propagated, 0.99), p(ready, 0.5), p(ready, 0.99))
}
