package placement_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	placementctrl "github.com/berth-io/berth/controllers/placement"
	ptesting "github.com/berth-io/berth/placement/testing"
)

const ms = time.Millisecond

func TestWorkloadPlacesOnTheConsumerCluster(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer := unique("wl")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	createMember(t, ptesting.NewMember(unique("other")).Pool("default", "64", "256Gi"))
	before := counterValue(placementctrl.DecisionsTotal.WithLabelValues("Workload", placementctrl.ResultScheduled))

	svc := ptesting.NewService(ns, "orders").Consumer(consumer).Requests("1", "1Gi").Replicas(3).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)

	g.Expect(placed(got).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(got.Status.Placement.Cluster).To(Equal(consumer))
	g.Expect(got.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyWorkload))
	g.Expect(got.Status.Placement.DecidedAt).NotTo(BeNil())
	g.Expect(got.Status.Placement.Candidates[0].Cluster).To(Equal(consumer))
	g.Expect(got.Status.Placement.Candidates[0].Feasible).To(BeTrue())
	g.Expect(got.Status.Placement.Candidates[1].Reason).To(ContainSubstring("StrategyRole: not the consumer cluster " + consumer))
	g.Expect(placed(got).Message).To(ContainSubstring("Placed on " + consumer + " by strategy Workload"))
	eventuallyEvent(t, svc, "Scheduled: Placed on "+consumer)
	g.Expect(counterValue(placementctrl.DecisionsTotal.WithLabelValues("Workload", placementctrl.ResultScheduled))).To(BeNumerically(">", before))

	// Only status.placement and the Placed condition belong to placement:
	// the apply is done by its own field manager.
	owners := map[string]bool{}
	for _, mf := range got.ManagedFields {
		if mf.Subresource == "status" {
			owners[mf.Manager] = true
		}
	}
	g.Expect(owners).To(HaveKey(placementctrl.FieldManager))
}

func TestPlacementDoesNotTouchOtherStatus(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := createNamespace(t)
	consumer := unique("wl")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	svc := ptesting.NewService(ns, "cache").Consumer(consumer).Build()
	createService(t, svc)
	eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)

	// Another controller (propagation) writes its own condition and the
	// endpoint; a re-placement must keep them.
	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &fleetv1alpha1.ManagedService{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(svc), cur); err != nil {
			return err
		}
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied})
		cur.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "cache.example", Port: 6379}
		cur.Status.ObservedGeneration = cur.Generation
		return k8s.Status().Update(ctx, cur)
	})).To(Succeed())
	setAnnotation(t, svc, fleetv1alpha1.AnnotationReplace, "check")
	eventuallyEvent(t, svc, "Replaced", `("check")`)

	got := getService(g, svc)
	g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionPropagated)).To(BeTrue())
	g.Expect(got.Status.Endpoint).NotTo(BeNil())
	g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	g.Expect(placed(got).Status).To(Equal(metav1.ConditionTrue))
}

func TestManagementPlacesOnTheManagementCluster(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer := unique("wl")
	hub := unique("hub")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "64", "256Gi"))
	createMember(t, ptesting.NewMember(hub).Role(fleetv1alpha1.RoleManagement).Pool("default", "16", "64Gi"))

	svc := ptesting.NewService(ns, "billing").Consumer(consumer).Strategy(fleetv1alpha1.StrategyManagement).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Cluster).To(Equal(hub))
	g.Expect(got.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyManagement))
}

func TestDedicatedPlacesOnTheBestServicesCluster(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer, near, far, other := unique("wl"), unique("near"), unique("far"), unique("elsewhere")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi").
		Latency(near, 1*ms, 2*ms).Latency(far, 8*ms, 15*ms))
	createMember(t, ptesting.NewMember(near).Role(fleetv1alpha1.RoleServices).Label("test", near).Label("tier", "db").Pool("default", "16", "64Gi"))
	createMember(t, ptesting.NewMember(far).Role(fleetv1alpha1.RoleServices).Label("test", near).Label("tier", "db").Pool("default", "16", "64Gi"))
	// Outside the selector.
	createMember(t, ptesting.NewMember(other).Role(fleetv1alpha1.RoleServices).Label("test", other).Pool("default", "64", "256Gi"))

	svc := ptesting.NewService(ns, "ledger").Consumer(consumer).Strategy(fleetv1alpha1.StrategyDedicated).
		ClusterSelector("test", near).MaxLatency(10 * ms).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Cluster).To(Equal(near))
	g.Expect(got.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))

	cands := map[string]fleetv1alpha1.Candidate{}
	for _, c := range got.Status.Placement.Candidates {
		cands[c.Cluster] = c
	}
	g.Expect(cands[near].Feasible).To(BeTrue())
	g.Expect(cands[near].Scores).NotTo(BeEmpty())
	g.Expect(cands[far].Reason).To(Equal("MaxLatency: p99 RTT to consumer " + consumer + " is 15ms, above maxLatency 10ms"))
	g.Expect(cands[other].Reason).To(HavePrefix("StrategyRole: labels do not match spec.placement.clusterSelector"))
	g.Expect(got.Status.Placement.Candidates[0].Cluster).To(Equal(near))
}

func TestWorkloadWithoutCapacityStaysUnplaced(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer := unique("small")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "4", "16Gi", ptesting.Requested("1500m", "1Gi")))
	// A roomy services cluster exists, but without a fallback the service
	// must not go there.
	createMember(t, ptesting.NewMember(unique("svc")).Role(fleetv1alpha1.RoleServices).Pool("default", "64", "256Gi"))

	svc := ptesting.NewService(ns, "search").Consumer(consumer).Replicas(2).Requests("2", "1Gi").Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonUnschedulable)
	g.Expect(placed(got).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(placed(got).Message).To(ContainSubstring("CapacityFit rejected 1 (" + consumer + ": pool default: needs 4 cpu, 2.5 free)"))
	g.Expect(placed(got).Message).To(ContainSubstring("no fallback strategy is allowed"))
	g.Expect(got.Status.Placement.Cluster).To(BeEmpty())
	g.Expect(got.Status.Placement.Candidates[0].Reason).To(Equal("CapacityFit: pool default: needs 4 cpu, 2.5 free"))
	eventuallyEvent(t, svc, "Unschedulable", "needs 4 cpu, 2.5 free")
	g.Expect(counterValue(placementctrl.UnschedulableTotal.WithLabelValues("CapacityFit"))).To(BeNumerically(">=", 1))

	// Nothing moves it while the member stays small...
	g.Consistently(func(g Gomega) {
		g.Expect(getService(g, svc).Status.Placement.Cluster).To(BeEmpty())
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

	// ...and when the consumer gets room, the member change places it.
	updateMember(t, ptesting.NewMember(consumer).Pool("default", "8", "16Gi", ptesting.Requested("1500m", "1Gi")))
	got = eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Cluster).To(Equal(consumer))
}

func TestFallbackChainWhenThePolicyAllowsIt(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer, services := unique("small"), unique("svc")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "1", "2Gi"))
	createMember(t, ptesting.NewMember(services).Role(fleetv1alpha1.RoleServices).Pool("default", "64", "256Gi"))
	policy := unique("spill")
	createPolicy(t, ptesting.NewPolicy(policy).Fallback(fleetv1alpha1.StrategyDedicated).Build())

	svc := ptesting.NewService(ns, "queue").Engine(fleetv1alpha1.EngineRabbitMQ, "4.0").Replicas(3).
		Requests("1", "2Gi").Consumer(consumer).Policy(policy).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonFallback)
	g.Expect(placed(got).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(got.Status.Placement.Cluster).To(Equal(services))
	g.Expect(got.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
	g.Expect(got.Status.Placement.Policy).To(Equal(policy))
	// The first decision explains the fallback in full; later (sticky)
	// re-evaluations keep saying it was a fallback.
	g.Expect(placed(got).Message).To(Or(ContainSubstring("strategy Workload: 0/"),
		ContainSubstring("by fallback strategy Dedicated; the base strategy Workload found no cluster")))
	eventuallyEvent(t, svc, "Fallback: Placed on "+services+" by fallback strategy Dedicated")

	// The same service without the policy stays unplaced.
	plain := ptesting.NewService(ns, "queue-plain").Engine(fleetv1alpha1.EngineRabbitMQ, "4.0").Replicas(3).
		Requests("1", "2Gi").Consumer(consumer).Build()
	createService(t, plain)
	eventuallyPlaced(t, plain, fleetv1alpha1.ReasonUnschedulable)
}

func TestDefaultPolicyAppliesToItsStrategy(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer, services := unique("small"), unique("svc")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "1", "2Gi"))
	createMember(t, ptesting.NewMember(services).Role(fleetv1alpha1.RoleServices).Pool("default", "64", "256Gi"))
	def := unique("default")
	createPolicy(t, ptesting.NewPolicy(def).Default().Fallback(fleetv1alpha1.StrategyDedicated).Build())
	eventuallyAccepted(t, def, fleetv1alpha1.ReasonValid)

	svc := ptesting.NewService(ns, "events").Requests("4", "1Gi").Consumer(consumer).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonFallback)
	g.Expect(got.Status.Placement.Policy).To(Equal(def))
	g.Expect(got.Status.Placement.Cluster).To(Equal(services))
}

func TestStickyWhenScoresChangeAndReplaceMovesIt(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer, a, b := unique("wl"), unique("svc-a"), unique("svc-b")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	memberA := func(requested string) *ptesting.MemberBuilder {
		return ptesting.NewMember(a).Role(fleetv1alpha1.RoleServices).Label("test", a).
			Pool("default", "16", "64Gi", ptesting.Requested(requested, "1Gi"))
	}
	memberB := func(requested string) *ptesting.MemberBuilder {
		return ptesting.NewMember(b).Role(fleetv1alpha1.RoleServices).Label("test", a).
			Pool("default", "16", "64Gi", ptesting.Requested(requested, "1Gi"))
	}
	createMember(t, memberA("2"))
	createMember(t, memberB("12"))
	// Headroom only, without Steady, so that scores move easily.
	policy := unique("headroom")
	createPolicy(t, ptesting.NewPolicy(policy).Strategy(fleetv1alpha1.StrategyDedicated).Score("CapacityHeadroom", 1).Build())

	svc := ptesting.NewService(ns, "profiles").Consumer(consumer).Strategy(fleetv1alpha1.StrategyDedicated).
		ClusterSelector("test", a).Requests("1", "1Gi").Policy(policy).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Cluster).To(Equal(a))
	g.Expect(got.Status.Placement.BetterCandidate).To(BeEmpty())
	decidedAt := got.Status.Placement.DecidedAt

	// B empties out and A fills up: B now scores higher, but the service
	// stays on A and status says B is better.
	updateMember(t, memberB("0"))
	updateMember(t, memberA("14"))
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.BetterCandidate).To(Equal(b))
		g.Expect(cur.Status.Placement.Cluster).To(Equal(a))
		g.Expect(cur.Status.Placement.DecidedAt.Equal(decidedAt)).To(BeTrue())
		g.Expect(placed(cur).Message).To(ContainSubstring(b + " (strategy Dedicated, score"))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, svc, "BetterCandidate: "+b+" scores higher than "+a)
	g.Consistently(func(g Gomega) {
		g.Expect(getService(g, svc).Status.Placement.Cluster).To(Equal(a))
	}, 3*refreshInterval, 200*time.Millisecond).Should(Succeed())

	// The annotation moves it, is removed, and is recorded.
	setAnnotation(t, svc, fleetv1alpha1.AnnotationReplace, "ticket 42")
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.Cluster).To(Equal(b))
		g.Expect(cur.Status.Placement.BetterCandidate).To(BeEmpty())
		g.Expect(cur.Annotations).NotTo(HaveKey(fleetv1alpha1.AnnotationReplace))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, svc, "Replaced", `("ticket 42")`, "moved from "+a+" to "+b)
}

func TestPlacedServiceStaysWhenItsClusterFails(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer := unique("wl")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	svc := ptesting.NewService(ns, "sessions").Engine(fleetv1alpha1.EngineRedis, "7.2").Consumer(consumer).Build()
	createService(t, svc)
	eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)

	// The consumer's Lease expires: the service is not moved, and status
	// says why the cluster would not be chosen today.
	updateMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi").Available(false))
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.Cluster).To(Equal(consumer))
		g.Expect(placed(cur).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(placed(cur).Message).To(ContainSubstring(consumer + " no longer passes the filters (Available: not available"))
	}, timeout, interval).Should(Succeed())

	// The member is deleted: still not moved, which the message and an
	// Event say.
	g.Expect(k8s.Delete(context.Background(), &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: consumer}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.Cluster).To(Equal(consumer))
		g.Expect(placed(cur).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(placed(cur).Message).To(Equal("Placed on " + consumer + ", which no longer exists; set the fleet.berth.io/replace annotation to place the service again"))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, svc, "ClusterGone: Placed on "+consumer)
}

func TestPolicyProblems(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer := unique("wl")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))

	// A policyRef to nothing: PolicyNotFound, until the policy appears.
	missing := unique("later")
	svc := ptesting.NewService(ns, "audit").Consumer(consumer).Policy(missing).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonPolicyNotFound)
	g.Expect(placed(got).Message).To(Equal(`PlacementPolicy "` + missing + `" not found`))
	eventuallyEvent(t, svc, "PolicyNotFound")

	createPolicy(t, ptesting.NewPolicy(missing).Build())
	got = eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Policy).To(Equal(missing))

	// An unknown plugin: the policy is not Accepted, and a service naming
	// it is not placed.
	bad := unique("bad")
	createPolicy(t, ptesting.NewPolicy(bad).Filter("StrategyRole", nil).Filter("Magic", nil).Build())
	cond := eventuallyAccepted(t, bad, fleetv1alpha1.ReasonPolicyInvalid)
	g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(cond.Message).To(ContainSubstring(`spec.filters[1].name: unknown plugin "Magic"`))
	svc2 := ptesting.NewService(ns, "audit-2").Consumer(consumer).Policy(bad).Build()
	createService(t, svc2)
	got = eventuallyPlaced(t, svc2, fleetv1alpha1.ReasonPolicyInvalid)
	g.Expect(placed(got).Message).To(ContainSubstring(`unknown plugin "Magic"`))

	// Bad args are named too.
	badArgs := unique("bad-args")
	createPolicy(t, ptesting.NewPolicy(badArgs).Filter("StrategyRole", nil).Filter("MaxLatency", map[string]any{"allowUnknown": "yes"}).Build())
	cond = eventuallyAccepted(t, badArgs, fleetv1alpha1.ReasonPolicyInvalid)
	g.Expect(cond.Message).To(ContainSubstring("spec.filters[1].args.allowUnknown: must be a boolean"))
}

func TestInvalidPolicyIsRejectedBySchema(t *testing.T) {
	testCases := []struct {
		name string
		pp   *fleetv1alpha1.PlacementPolicy
		want string
	}{
		{name: "weight above 100", pp: ptesting.NewPolicy(unique("w")).Score("Spread", 101).Build(), want: "spec.scores[0].weight"},
		{name: "fallback repeats the strategy", pp: ptesting.NewPolicy(unique("f")).Fallback(fleetv1alpha1.StrategyWorkload).Build(), want: "fallback must not repeat the base strategy"},
		{name: "plugin name pattern", pp: ptesting.NewPolicy(unique("n")).Filter("not-a-name", nil).Build(), want: "spec.filters[0].name"},
		{name: "unknown strategy", pp: ptesting.NewPolicy(unique("s")).Strategy("Everywhere").Build(), want: "spec.strategy"},
		{name: "too many candidates", pp: ptesting.NewPolicy(unique("c")).Candidates(51).Build(), want: "spec.candidatesToRecord"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8s.Create(context.Background(), tc.pp)
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "error: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

func TestAtMostOneDefaultPolicy(t *testing.T) {
	g := NewWithT(t)
	first, second := unique("def-a"), unique("def-b")
	createPolicy(t, ptesting.NewPolicy(first).Default().Build())
	eventuallyAccepted(t, first, fleetv1alpha1.ReasonValid)

	second2 := ptesting.NewPolicy(second).Default().Build()
	createPolicy(t, second2)
	cond := eventuallyAccepted(t, first, fleetv1alpha1.ReasonMultipleDefaults)
	g.Expect(cond.Message).To(ContainSubstring("2 policies set spec.default"))
	eventuallyAccepted(t, second, fleetv1alpha1.ReasonMultipleDefaults)

	// Services without a policyRef get the built-in profile meanwhile.
	ns := createNamespace(t)
	consumer := unique("wl")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	svc := ptesting.NewService(ns, "metrics").Consumer(consumer).Build()
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonScheduled)
	g.Expect(got.Status.Placement.Policy).To(BeEmpty())

	g.Expect(k8s.Delete(context.Background(), second2)).To(Succeed())
	eventuallyAccepted(t, first, fleetv1alpha1.ReasonValid)
}

// eventuallyAccepted waits for a policy's Accepted reason.
func eventuallyAccepted(t *testing.T, name, reason string) metav1.Condition {
	t.Helper()
	var cond metav1.Condition
	NewWithT(t).Eventually(func(g Gomega) {
		pp := &fleetv1alpha1.PlacementPolicy{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, pp)).To(Succeed())
		c := meta.FindStatusCondition(pp.Status.Conditions, fleetv1alpha1.ConditionAccepted)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(reason), "Accepted: %+v", c)
		g.Expect(pp.Status.ObservedGeneration).To(Equal(pp.Generation))
		cond = *c
	}, timeout, interval).Should(Succeed())
	return cond
}

// setAnnotation sets an annotation on a service.
func setAnnotation(t *testing.T, svc *fleetv1alpha1.ManagedService, k, v string) {
	t.Helper()
	NewWithT(t).Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &fleetv1alpha1.ManagedService{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(svc), cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[k] = v
		return k8s.Update(context.Background(), cur)
	})).To(Succeed())
}

// counterValue reads a counter.
func counterValue(c prometheus.Counter) float64 {
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// binding creates a ServiceWork of svc in member's hub namespace, as the
// propagation controller would: a provider work records its decision in
// annotations, a consumer work names the provider it uses.
func bindingWork(t *testing.T, svc *fleetv1alpha1.ManagedService, member, provider string, s fleetv1alpha1.Strategy, roles ...fleetv1alpha1.WorkRole) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fleetv1alpha1.MemberNamespace(member)}}
	if err := k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	w := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: fleetv1alpha1.ServiceKey(svc.Namespace, svc.Name),
			Annotations: map[string]string{fleetv1alpha1.AnnotationPlacementStrategy: string(s)}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      roles,
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: svc.Namespace, Name: svc.Name},
			Consumer:   svc.Spec.Consumer,
			Service: &fleetv1alpha1.ServiceTemplate{Engine: svc.Spec.Engine, Version: svc.Spec.Version, Replicas: 1,
				Storage: svc.Spec.Storage},
		},
	}
	if provider != "" {
		w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: provider}
	}
	g.Expect(k8s.Create(ctx, w)).To(Succeed())
}

// wipeStatus replaces a service's status with an empty one.
func wipeStatus(t *testing.T, svc *fleetv1alpha1.ManagedService) {
	t.Helper()
	NewWithT(t).Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &fleetv1alpha1.ManagedService{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(svc), cur); err != nil {
			return err
		}
		cur.Status = fleetv1alpha1.ManagedServiceStatus{}
		return k8s.Status().Update(context.Background(), cur)
	})).To(Succeed())
}

func TestLostStatusIsRestoredFromTheBinding(t *testing.T) {
	g := NewWithT(t)
	ns := createNamespace(t)
	consumer, a, b := unique("wl"), unique("svc-a"), unique("svc-b")
	createMember(t, ptesting.NewMember(consumer).Pool("default", "8", "32Gi"))
	createMember(t, ptesting.NewMember(a).Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi"))
	createMember(t, ptesting.NewMember(b).Role(fleetv1alpha1.RoleServices).Pool("default", "16", "64Gi"))
	svc := ptesting.NewService(ns, "catalog").Consumer(consumer).Requests("1", "1Gi").Build()

	// The works say the service runs on a (placed there by a fallback
	// earlier), whereas a fresh Workload decision would pick the consumer.
	bindingWork(t, svc, a, "", fleetv1alpha1.StrategyDedicated, fleetv1alpha1.RoleProvider)
	bindingWork(t, svc, consumer, a, "", fleetv1alpha1.RoleConsumer)
	createService(t, svc)
	got := eventuallyPlaced(t, svc, fleetv1alpha1.ReasonFallback)
	g.Expect(got.Status.Placement.Cluster).To(Equal(a))
	g.Expect(got.Status.Placement.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
	g.Expect(got.Status.Placement.BetterCandidate).To(Equal(consumer))
	eventuallyEvent(t, svc, "PlacementRestored", "restored the decision "+a)

	// A move to b is under way (b's work is newer): a wipe restores the
	// move's target, so the move waits where it was.
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
	bindingWork(t, svc, b, "", fleetv1alpha1.StrategyDedicated, fleetv1alpha1.RoleProvider)
	wipeStatus(t, svc)
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.Cluster).To(Equal(b))
		g.Expect(placed(cur).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, svc, "PlacementRestored", "restored the decision "+b)

	// A policy that is missing meanwhile does not unplace it either.
	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := getService(g, svc)
		cur.Spec.Placement.PolicyRef = &fleetv1alpha1.PolicyReference{Name: unique("gone")}
		return k8s.Update(context.Background(), cur)
	})).To(Succeed())
	// Wipe only once the controller acted on the missing policy and its
	// status write settled: a reconcile that read the status before the
	// wipe could otherwise write its old message back after it.
	eventuallyEvent(t, svc, fleetv1alpha1.ReasonPolicyNotFound, "the service stays on "+b)
	g.Consistently(func(g Gomega) {
		g.Expect(getService(g, svc).Status.Placement.Cluster).To(Equal(b))
	}, time.Second, interval).Should(Succeed())
	wipeStatus(t, svc)
	g.Eventually(func(g Gomega) {
		cur := getService(g, svc)
		g.Expect(cur.Status.Placement.Cluster).To(Equal(b))
		g.Expect(placed(cur).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(placed(cur).Message).To(ContainSubstring("not found"))
	}, timeout, interval).Should(Succeed())
}
