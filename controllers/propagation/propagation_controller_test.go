package propagation_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// placedService creates a ManagedService and marks it placed on cluster, as
// the placement controller would.
func placedService(t *testing.T, g Gomega, name, consumer, cluster string) *fleetv1alpha1.ManagedService {
	t.Helper()
	ctx := context.Background()
	ensureNamespace(t, "team")
	for _, m := range []string{consumer, cluster} {
		ensureNamespace(t, fleetv1alpha1.MemberNamespace(m))
	}
	ms := &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec: fleetv1alpha1.ManagedServiceSpec{
			Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 1,
			Storage:  fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: consumer, Namespaces: []string{"shop"}},
		},
	}
	g.Expect(k8sClient.Create(ctx, ms)).To(Succeed())
	place(g, ms, cluster)
	return ms
}

func place(g Gomega, ms *fleetv1alpha1.ManagedService, cluster string) {
	ctx := context.Background()
	g.Eventually(func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms); err != nil {
			return err
		}
		ms.Status.Placement.Cluster = cluster
		meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{
			Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled,
		})
		return k8sClient.Status().Update(ctx, ms)
	}, timeout, interval).Should(Succeed())
}

// spokeReports writes a ServiceWork's status as its spoke would.
func spokeReports(g Gomega, key client.ObjectKey, mutate func(*fleetv1alpha1.ServiceWork)) {
	ctx := context.Background()
	g.Eventually(func() error {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(ctx, key, w); err != nil {
			return err
		}
		w.Status.ObservedGeneration = w.Generation
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionApplied, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied})
		mutate(w)
		return k8sClient.Status().Update(ctx, w)
	}, timeout, interval).Should(Succeed())
}

// spokeRemoved reports, as the spoke would, that it removed what it rendered.
func spokeRemoved(g Gomega, key client.ObjectKey) {
	ctx := context.Background()
	g.Eventually(func() error {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(ctx, key, w); err != nil {
			return err
		}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionRemoved, Status: metav1.ConditionTrue, Reason: "Cleaned"})
		return k8sClient.Status().Update(ctx, w)
	}, timeout, interval).Should(Succeed())
}

func condition(ms *fleetv1alpha1.ManagedService, t string) metav1.ConditionStatus {
	c := meta.FindStatusCondition(ms.Status.Conditions, t)
	if c == nil {
		return ""
	}
	return c.Status
}

func TestColocatedServiceGetsOneWorkWithBothRoles(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "cache", "w1", "w1")
	key := client.ObjectKey{Namespace: "berth-member-w1", Name: "team.cache"}

	w := &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() error { return k8sClient.Get(ctx, key, w) }, timeout, interval).Should(Succeed())
	g.Expect(w.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer))
	g.Expect(w.Spec.Service.Engine).To(Equal(fleetv1alpha1.EngineRedis))
	g.Expect(w.Spec.Provider.CredentialsSecret).To(BeEmpty(), "co-located credentials never leave the cluster")

	// Only one work exists for the service.
	list := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(k8sClient.List(ctx, list, client.MatchingLabels{fleetv1alpha1.LabelManagedService: "team.cache"})).To(Succeed())
	g.Expect(list.Items).To(HaveLen(1))

	g.Eventually(func() metav1.ConditionStatus {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)
		return condition(ms, fleetv1alpha1.ConditionPropagated)
	}, timeout, interval).Should(Equal(metav1.ConditionFalse))
	g.Expect(ms.Status.ObservedGeneration).To(BeZero(), "not bumped before the spoke applied")

	spokeReports(g, key, func(w *fleetv1alpha1.ServiceWork) {
		w.Status.ReadyReplicas = 1
		w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "cache", Port: 26379, SecretName: "cache-credentials"}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
	})
	g.Eventually(func() metav1.ConditionStatus {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)
		return condition(ms, fleetv1alpha1.ConditionReady)
	}, timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(condition(ms, fleetv1alpha1.ConditionPropagated)).To(Equal(metav1.ConditionTrue))
	g.Expect(condition(ms, fleetv1alpha1.ConditionPlaced)).To(Equal(metav1.ConditionTrue), "the placement controller's condition is kept")
	g.Expect(ms.Status.Endpoint.Host).To(Equal("cache"))
	g.Expect(ms.Status.ReadyReplicas).To(Equal(int32(1)))
	g.Expect(ms.Status.ObservedGeneration).To(Equal(ms.Generation))

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
	pkey := client.ObjectKey{Namespace: "berth-member-s1", Name: "team.queue"}
	ckey := client.ObjectKey{Namespace: "berth-member-w2", Name: "team.queue"}

	pw, cw := &fleetv1alpha1.ServiceWork{}, &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() error { return k8sClient.Get(ctx, pkey, pw) }, timeout, interval).Should(Succeed())
	g.Eventually(func() error { return k8sClient.Get(ctx, ckey, cw) }, timeout, interval).Should(Succeed())
	g.Expect(pw.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleProvider))
	g.Expect(cw.Spec.Roles).To(ConsistOf(fleetv1alpha1.RoleConsumer))
	g.Expect(cw.Spec.Service.Engine).To(Equal(fleetv1alpha1.EngineRedis), "the binding needs the engine")
	g.Expect(cw.Spec.Provider.Cluster).To(Equal("s1"))
	g.Expect(pw.Finalizers).To(ContainElement(fleetv1alpha1.FinalizerWork))

	// The provider spoke publishes credentials and its endpoint.
	published := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-s1", Name: "team.queue.published",
			Labels: map[string]string{fleetv1alpha1.LabelManagedService: "team.queue"}},
		Data: map[string][]byte{"password": []byte("s3cret")},
	}
	g.Expect(k8sClient.Create(ctx, published)).To(Succeed())
	spokeReports(g, pkey, func(w *fleetv1alpha1.ServiceWork) {
		w.Status.CredentialsSecret = published.Name
		w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "10.0.0.7", Port: 30672}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
	})

	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, ckey, cw)
		return cw.Spec.Provider.CredentialsSecret
	}, timeout, interval).Should(Equal("team.queue.credentials"))
	g.Expect(cw.Spec.Provider.Endpoint.Port).To(Equal(int32(30672)))
	copied := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "berth-member-w2", Name: "team.queue.credentials"}, copied)).To(Succeed())
	g.Expect(copied.Data["password"]).To(Equal([]byte("s3cret")))

	spokeReports(g, ckey, func(w *fleetv1alpha1.ServiceWork) {
		w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "queue", Port: 5672, SecretName: "queue-credentials"}
	})
	g.Eventually(func() metav1.ConditionStatus {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms)
		return condition(ms, fleetv1alpha1.ConditionReady)
	}, timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(ms.Status.Endpoint.Host).To(Equal("queue"), "the endpoint is the one the consumer sees")

	// Deleting waits for both spokes.
	g.Expect(k8sClient.Delete(ctx, ms)).To(Succeed())
	g.Eventually(func() bool {
		_ = k8sClient.Get(ctx, pkey, pw)
		return pw.DeletionTimestamp != nil
	}, timeout, interval).Should(BeTrue())
	g.Consistently(func() error {
		return k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), &fleetv1alpha1.ManagedService{})
	}, 2*time.Second, interval).Should(Succeed(), "the service stays until the spokes cleaned up")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: "berth-member-w2", Name: "team.queue.credentials"}, copied))).To(BeTrue())

	spokeRemoved(g, pkey)
	spokeRemoved(g, ckey)
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), &fleetv1alpha1.ManagedService{}))
	}, timeout, interval).Should(BeTrue())
}

func TestMovedServiceRemovesOldWork(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ms := placedService(t, g, "db", "w3", "w3")
	old := client.ObjectKey{Namespace: "berth-member-w3", Name: "team.db"}
	g.Eventually(func() error { return k8sClient.Get(ctx, old, &fleetv1alpha1.ServiceWork{}) }, timeout, interval).Should(Succeed())

	ensureNamespace(t, "berth-member-s3")
	place(g, ms, "s3")
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: "berth-member-s3", Name: "team.db"}, &fleetv1alpha1.ServiceWork{})
	}, timeout, interval).Should(Succeed())
	w := &fleetv1alpha1.ServiceWork{}
	g.Eventually(func() []fleetv1alpha1.WorkRole {
		_ = k8sClient.Get(ctx, old, w)
		return w.Spec.Roles
	}, timeout, interval).Should(ConsistOf(fleetv1alpha1.RoleConsumer), "the consumer side stays, now remote")
}
