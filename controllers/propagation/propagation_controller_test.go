package propagation_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestColocatedServiceGetsOneWorkWithBothRoles(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "cache", "w1", "w1")
	key := workKey("w1", "cache")

	w := &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() error { return k8sClient.Get(ctx, key, w) }, timeout, interval).Should(Succeed())
	g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer))
	g.Expect(w.Spec.Service.Engine).To(Equal(fleetv1alpha1.EngineRedis))
	g.Expect(w.Spec.Provider.Cluster).To(Equal("w1"))
	g.Expect(w.Spec.Provider.CredentialsSecret).To(BeEmpty(), "co-located credentials never leave the cluster")
	g.Expect(w.Annotations).To(HaveKey(fleetv1alpha1.AnnotationSpecHash))

	// Only one work exists for the service.
	list := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(k8sClient.List(ctx, list, client.MatchingLabels{fleetv1alpha1.LabelManagedService: "team.cache"})).To(Succeed())
	g.Expect(list.Items).To(HaveLen(1))

	g.Eventually(func() metav1.ConditionStatus {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)
		return condition(ms, fleetv1alpha1.ConditionPropagated)
	}, timeout, interval).Should(Equal(metav1.ConditionFalse))
	g.Expect(ms.Status.ObservedGeneration).To(BeZero(), "not bumped before the spoke applied")

	reportProvider(g, key, "")
	eventuallyReady(t, ms)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)).To(Succeed())
	g.Expect(condition(ms, fleetv1alpha1.ConditionPropagated)).To(Equal(metav1.ConditionTrue))
	g.Expect(condition(ms, fleetv1alpha1.ConditionPlaced)).To(Equal(metav1.ConditionTrue), "the placement controller's condition is kept")
	g.Expect(ms.Status.Endpoint.Host).To(Equal("binding"))
	g.Expect(ms.Status.ReadyReplicas).To(Equal(int32(1)))
	g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation))
	g.Expect(meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionMoving)).To(BeNil(), "a service that never moved has no Moving condition")

	// A spec change makes the work stale until the spoke applies it again.
	ms.Spec.Replicas = 3
	g.Expect(k8sClient.Update(ctx, ms)).To(Succeed())
	g.Eventually(func() int32 {
		_ = k8sClient.Get(ctx, key, w)
		return w.Spec.Service.Replicas
	}, timeout, interval).Should(Equal(int32(3)))
	g.Eventually(func() metav1.ConditionStatus {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)
		return condition(ms, fleetv1alpha1.ConditionPropagated)
	}, timeout, interval).Should(Equal(metav1.ConditionFalse))
	g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation-1), "observedGeneration stays honest")
}

func TestRemoteServiceCopiesCredentialsAndDeletesAfterSpokes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "queue", "w2", "s1")
	pkey, ckey := workKey("s1", "queue"), workKey("w2", "queue")

	pw, cw := &fleetv1alpha1.ServiceWork{}, &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() error { return k8sClient.Get(ctx, pkey, pw) }, timeout, interval).Should(Succeed())
	g.Eventually(func() error { return k8sClient.Get(ctx, ckey, cw) }, timeout, interval).Should(Succeed())
	g.Expect(pw.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider))
	g.Expect(cw.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleConsumer))
	g.Expect(cw.Spec.Service.Engine).To(Equal(fleetv1alpha1.EngineRedis), "the binding needs the engine")
	g.Expect(cw.Spec.Provider.Cluster).To(Equal("s1"))
	g.Expect(pw.Finalizers).To(ContainElement(fleetv1alpha1.FinalizerWork))

	// The provider spoke publishes credentials and its endpoint.
	reportProvider(g, pkey, "10.0.0.7")
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, ckey, cw)
		return cw.Spec.Provider.CredentialsSecret
	}, timeout, interval).Should(Equal("team.queue.s1.credentials"))
	g.Expect(cw.Spec.Provider.Endpoint.Host).To(Equal("10.0.0.7"))
	copied := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "berth-member-w2", Name: "team.queue.s1.credentials"}, copied)).To(Succeed())
	g.Expect(copied.Data["password"]).To(Equal([]byte("pw-10.0.0.7")))

	// A new password is copied again.
	published := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pkey.Namespace, Name: "team.queue.published"}, published)).To(Succeed())
	published.Data["password"] = []byte("rotated")
	g.Expect(k8sClient.Update(ctx, published)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(copied), copied)
		return string(copied.Data["password"])
	}, timeout, interval).Should(Equal("rotated"))

	reportConsumer(g, ckey)
	eventuallyReady(t, ms)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)).To(Succeed())
	g.Expect(ms.Status.Endpoint.Host).To(Equal("binding"), "the endpoint is the one the consumer sees")

	// Deleting waits for both spokes.
	g.Expect(k8sClient.Delete(ctx, ms)).To(Succeed())
	g.Eventually(func() bool {
		_ = k8sClient.Get(ctx, pkey, pw)
		return pw.DeletionTimestamp != nil
	}, timeout, interval).Should(BeTrue())
	g.Consistently(func() error {
		return k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), &fleetv1alpha1.ManagedService{})
	}, 2*time.Second, interval).Should(Succeed(), "the service stays until the spokes cleaned up")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(copied), copied))).To(BeTrue())

	spokeRemoved(g, pkey)
	spokeRemoved(g, ckey)
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), &fleetv1alpha1.ManagedService{}))
	}, timeout, interval).Should(BeTrue())
}

func TestNoDecisionNeverDeletesOrRewrites(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "ledger", "w9", "s9")
	pkey, ckey := workKey("s9", "ledger"), workKey("w9", "ledger")
	g.Eventually(func() error { return k8sClient.Get(ctx, ckey, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, pkey, "10.0.0.9")
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, ckey).Spec.Provider.CredentialsSecret).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())
	reportConsumer(g, ckey)
	eventuallyReady(t, ms)
	before := snapshotWorks(g, "ledger")
	g.Expect(before).To(HaveLen(2))

	steps := []struct {
		name   string
		mutate func(*fleetv1alpha1.ManagedService)
	}{
		{"Placed=False", func(ms *fleetv1alpha1.ManagedService) {
			meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionFalse, Reason: fleetv1alpha1.ReasonUnschedulable})
		}},
		{"status.placement empty", func(ms *fleetv1alpha1.ManagedService) {
			ms.Status.Placement = fleetv1alpha1.PlacementDecision{}
			meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled})
		}},
		{"status wiped", func(ms *fleetv1alpha1.ManagedService) { ms.Status = fleetv1alpha1.ManagedServiceStatus{} }},
		{"placed again", func(ms *fleetv1alpha1.ManagedService) {
			ms.Status.Placement.Cluster = "s9"
			meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled})
		}},
	}
	for _, step := range steps {
		updateStatus(g, ms, step.mutate)
		g.Consistently(func(g Gomega) {
			g.Expect(snapshotWorks(g, "ledger")).To(Equal(before), "after %s no work may be deleted or rewritten", step.name)
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
	}
	// The wiped conditions came back from the works.
	eventuallyReady(t, ms)
}

func TestMoveFromColocatedToRemote(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "db", "w3", "w3")
	old, target := workKey("w3", "db"), workKey("s3", "db")
	g.Eventually(func() error { return k8sClient.Get(ctx, old, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, old, "")
	eventuallyReady(t, ms)
	oldGen := getWork(g, old).Generation

	place(t, g, ms, "s3")
	g.Eventually(func() error { return k8sClient.Get(ctx, target, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	g.Expect(getWork(g, target).Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider))
	c := eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForTarget)
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(c.Message).To(ContainSubstring("Moving from w3 to s3"))
	g.Expect(c.Message).To(ContainSubstring("fleet.berth.io/accept-move: s3"))
	eventuallyEvent(t, ms, "MoveStarted", "Moving from w3 to s3")

	// The old work keeps both roles and its local binding.
	keepsOld := func(g Gomega) {
		w := getWork(g, old)
		g.Expect(w.DeletionTimestamp).To(BeNil())
		g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer))
		g.Expect(w.Spec.Provider.Cluster).To(Equal("w3"))
		g.Expect(w.Generation).To(Equal(oldGen))
	}
	g.Consistently(keepsOld, 2*time.Second, 200*time.Millisecond).Should(Succeed())

	// A stale acknowledgement naming another cluster is ignored and named.
	acceptMove(g, ms, "w3")
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(moving(cur).Message).To(ContainSubstring(`the annotation fleet.berth.io/accept-move is "w3", which does not name the target s3, and is ignored`))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, ms, "MoveAcknowledgementIgnored", `"w3"`, "s3")

	// The target becomes available: the move waits for the acknowledgement.
	reportProvider(g, target, "10.0.3.3")
	c = eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement)
	g.Expect(c.Message).To(ContainSubstring("Consumers keep using w3 until the annotation fleet.berth.io/accept-move: s3 is set"))
	g.Consistently(keepsOld, 2*time.Second, 200*time.Millisecond).Should(Succeed())
	eventuallyReady(t, ms)

	// The acknowledgement switches the consumer: the old work keeps only
	// the consumer role, bound to s3.
	acceptMove(g, ms, "s3")
	g.Eventually(func(g Gomega) {
		w := getWork(g, old)
		g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleConsumer))
		g.Expect(w.Spec.Provider.Cluster).To(Equal("s3"))
		g.Expect(w.Spec.Provider.Endpoint.Host).To(Equal("10.0.3.3"))
		g.Expect(w.Spec.Provider.CredentialsSecret).To(Equal("team.db.s3.credentials"))
		g.Expect(w.Annotations).NotTo(HaveKey(fleetv1alpha1.AnnotationPlacementStrategy))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, ms, "MoveSwitched", "from w3 to s3")

	// The consumer spoke applies the switch: the move completes.
	reportConsumer(g, old)
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveCompleted)
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(cur.Annotations).NotTo(HaveKey(fleetv1alpha1.AnnotationAcceptMove))
		g.Expect(moving(cur).Status).To(Equal(metav1.ConditionFalse))
	}, timeout, interval).Should(Succeed())
	g.Expect(getWork(g, target).DeletionTimestamp).To(BeNil())
	eventuallyReady(t, ms)
}

func TestMoveBetweenRemoteProviders(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "orders", "w4", "s4")
	old, target, consumer := workKey("s4", "orders"), workKey("s5", "orders"), workKey("w4", "orders")
	g.Eventually(func() error { return k8sClient.Get(ctx, consumer, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, old, "10.0.4.4")
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, consumer).Spec.Provider.CredentialsSecret).To(Equal("team.orders.s4.credentials"))
	}, timeout, interval).Should(Succeed())
	reportConsumer(g, consumer)
	eventuallyReady(t, ms)

	// Acknowledged ahead of time: the move still waits for the target.
	acceptMove(g, ms, "s5")
	place(t, g, ms, "s5")
	c := eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForTarget)
	g.Expect(c.Message).To(ContainSubstring("the move is acknowledged"))
	keepsOld := func(g Gomega) {
		g.Expect(getWork(g, old).DeletionTimestamp).To(BeNil())
		cw := getWork(g, consumer)
		g.Expect(cw.Spec.Provider.Cluster).To(Equal("s4"))
		g.Expect(cw.Spec.Provider.Endpoint.Host).To(Equal("10.0.4.4"))
		g.Expect(cw.Spec.Provider.CredentialsSecret).To(Equal("team.orders.s4.credentials"))
	}
	g.Consistently(keepsOld, 2*time.Second, 200*time.Millisecond).Should(Succeed())

	// Available but credentials not published yet: still waiting.
	spokeReports(g, target, func(w *fleetv1alpha1.ServiceWork) {
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
	})
	c = eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForTarget)
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(moving(cur).Message).To(ContainSubstring("has not reported the endpoint"))
	}, timeout, interval).Should(Succeed())
	g.Consistently(keepsOld, time.Second, 200*time.Millisecond).Should(Succeed())

	// Published: the consumer switches, the old provider stays until the
	// consumer spoke applied the switch.
	reportProvider(g, target, "10.0.5.5")
	g.Eventually(func(g Gomega) {
		cw := getWork(g, consumer)
		g.Expect(cw.Spec.Provider.Cluster).To(Equal("s5"))
		g.Expect(cw.Spec.Provider.Endpoint.Host).To(Equal("10.0.5.5"))
		g.Expect(cw.Spec.Provider.CredentialsSecret).To(Equal("team.orders.s5.credentials"))
	}, timeout, interval).Should(Succeed())
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveRemovingOldProvider)
	g.Consistently(func(g Gomega) {
		g.Expect(getWork(g, old).DeletionTimestamp).To(BeNil(), "the old provider stays until the consumer applied the switch")
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

	reportConsumer(g, consumer)
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, old).DeletionTimestamp).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: consumer.Namespace, Name: "team.orders.s4.credentials"}, &corev1.Secret{}))
	}, timeout, interval).Should(BeTrue(), "the old provider's credentials copy is removed")
	// The reason was MoveRemovingOldProvider already; wait for the message
	// that follows the deletion rather than read the condition once.
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(moving(cur).Reason).To(Equal(fleetv1alpha1.ReasonMoveRemovingOldProvider))
		g.Expect(moving(cur).Message).To(ContainSubstring("waiting for its spoke to remove it (deletionPolicy Retain)"))
	}, timeout, interval).Should(Succeed())

	// The old spoke cleaned up: the move is complete.
	spokeRemoved(g, old)
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveCompleted)
	g.Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, old, &fleetv1alpha1.ServiceWork{})) }, timeout, interval).Should(BeTrue())
	g.Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(cur.Annotations).NotTo(HaveKey(fleetv1alpha1.AnnotationAcceptMove))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, ms, "MoveCompleted", "s5")
	eventuallyReady(t, ms)
}

func TestMoveToTheConsumersCluster(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "cart", "w6", "s6")
	old, consumer := workKey("s6", "cart"), workKey("w6", "cart")
	g.Eventually(func() error { return k8sClient.Get(ctx, consumer, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, old, "10.0.6.6")
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, consumer).Spec.Provider.CredentialsSecret).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())
	reportConsumer(g, consumer)
	eventuallyReady(t, ms)

	// The consumer's work also runs the new provider, but stays bound to
	// the old one.
	place(t, g, ms, "w6")
	g.Eventually(func(g Gomega) {
		w := getWork(g, consumer)
		g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer))
		g.Expect(w.Spec.Provider.Cluster).To(Equal("s6"))
		g.Expect(w.Spec.Provider.Endpoint.Host).To(Equal("10.0.6.6"))
		g.Expect(w.Spec.Provider.CredentialsSecret).To(Equal("team.cart.s6.credentials"))
	}, timeout, interval).Should(Succeed())
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForTarget)

	reportConsumer(g, consumer) // applied and Available, both roles
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement)
	g.Expect(getWork(g, old).DeletionTimestamp).To(BeNil())

	acceptMove(g, ms, "w6")
	g.Eventually(func(g Gomega) {
		w := getWork(g, consumer)
		g.Expect(w.Spec.Provider.Cluster).To(Equal("w6"))
		g.Expect(w.Spec.Provider.CredentialsSecret).To(BeEmpty(), "a co-located binding uses local credentials")
		g.Expect(w.Spec.Provider.Endpoint).To(BeNil())
	}, timeout, interval).Should(Succeed())
	g.Expect(getWork(g, old).DeletionTimestamp).To(BeNil(), "not before the consumer applied the switch")
	reportConsumer(g, consumer)
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, old).DeletionTimestamp).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())
	spokeRemoved(g, old)
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveCompleted)
}

func TestCancelledMoveRemovesOnlyTheUnusedTarget(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "events", "w7", "w7")
	home, target := workKey("w7", "events"), workKey("s7", "events")
	g.Eventually(func() error { return k8sClient.Get(ctx, home, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	reportProvider(g, home, "")
	eventuallyReady(t, ms)

	place(t, g, ms, "s7")
	g.Eventually(func() error { return k8sClient.Get(ctx, target, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveWaitingForTarget)
	homeUID := getWork(g, home).UID

	// The placement goes back before any acknowledgement.
	place(t, g, ms, "w7")
	eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveCancelled)
	g.Eventually(func(g Gomega) {
		g.Expect(getWork(g, target).DeletionTimestamp).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())
	w := getWork(g, home)
	g.Expect(w.UID).To(Equal(homeUID))
	g.Expect(w.DeletionTimestamp).To(BeNil())
	g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer))
	eventuallyEvent(t, ms, "MoveCancelled", "s7")
	spokeRemoved(g, target)
	g.Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, target, &fleetv1alpha1.ServiceWork{})) }, timeout, interval).Should(BeTrue())
	c := eventuallyMoving(t, ms, fleetv1alpha1.ReasonMoveCancelled)
	g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
}
