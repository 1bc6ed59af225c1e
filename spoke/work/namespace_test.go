package work_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// TestCollidingNamesGetTheirOwnNamespaces: shop/orders-db and
// shop-orders/db used to share berth-shop-orders-db.
func TestCollidingNamesGetTheirOwnNamespaces(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	a := newProviderWork(g, hubNS, "x", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "collide-app")
	a.Name, a.Spec.ServiceRef.Namespace, a.Spec.ServiceRef.Name = "shop.orders-db", "shop", "orders-db"
	b := newProviderWork(g, hubNS, "x", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "collide-app2")
	b.Name, b.Spec.ServiceRef.Namespace, b.Spec.ServiceRef.Name = "shop-orders.db", "shop-orders", "db"
	g.Expect(k8sClient.Create(ctx, a)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, b)).To(Succeed())
	g.Eventually(workCondition(client.ObjectKeyFromObject(a), fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Eventually(workCondition(client.ObjectKeyFromObject(b), fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	nsA, nsB := render.PlatformNamespace(a.Spec.ServiceRef), render.PlatformNamespace(b.Spec.ServiceRef)
	g.Expect(nsA).NotTo(Equal(nsB))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "orders-db"}, &appsv1.StatefulSet{})).To(Succeed())
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsB, Name: "db"}, &appsv1.StatefulSet{})).To(Succeed())
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: nsA}, ns)).To(Succeed())
	g.Expect(ns.Annotations).To(HaveKeyWithValue(render.AnnotationServiceOwner, render.ServiceOwnerValue(a.Spec.ServiceRef)))
	for _, w := range []*fleetv1alpha1.ServiceWork{a, b} {
		g.Expect(k8sClient.Delete(ctx, w)).To(Succeed())
		g.Eventually(workCondition(client.ObjectKeyFromObject(w), fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
		releaseWork(g, client.ObjectKeyFromObject(w))
	}
}

// TestNamespaceOfAnotherServiceStopsTheWork: nothing is applied into a
// platform namespace that belongs to another ManagedService, or that berth
// did not create.
func TestNamespaceOfAnotherServiceStopsTheWork(t *testing.T) {
	testCases := []struct {
		name        string
		annotations map[string]string
		wantMessage string
	}{
		{name: "taken", wantMessage: "was not created by berth for this service"},
		{
			name:        "usurped",
			annotations: map[string]string{render.AnnotationServiceOwner: "team/usurper/1234"},
			wantMessage: "belongs to ManagedService team/usurper/1234",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			w := newProviderWork(g, hubNS, tc.name, fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, tc.name+"-app")
			pns := render.PlatformNamespace(w.Spec.ServiceRef)
			g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pns, Annotations: tc.annotations}})).To(Succeed())
			g.Expect(k8sClient.Create(ctx, w)).To(Succeed())
			key := client.ObjectKeyFromObject(w)
			g.Eventually(func() string {
				c := meta.FindStatusCondition(getWork(g, key).Status.Conditions, fleetv1alpha1.ConditionApplied)
				if c == nil {
					return ""
				}
				return c.Reason
			}, timeout, interval).Should(Equal(fleetv1alpha1.ReasonNamespaceConflict))
			got := getWork(g, key)
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionApplied).Message).To(ContainSubstring(tc.wantMessage))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionConflict)).To(BeTrue())
			g.Consistently(func(g Gomega) {
				sts := &appsv1.StatefulSetList{}
				g.Expect(k8sClient.List(ctx, sts, client.InNamespace(pns))).To(Succeed())
				g.Expect(sts.Items).To(BeEmpty(), "nothing is applied into the namespace")
				g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: tc.name + "-app", Name: tc.name}, &corev1.Service{}))).To(BeTrue(),
					"nor anywhere else")
			}, testResync, interval).Should(Succeed())
			ns := &corev1.Namespace{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
			g.Expect(ns.Annotations).To(Equal(tc.annotations), "the namespace is not touched")

			// Deleting the work leaves the namespace alone.
			g.Expect(k8sClient.Delete(ctx, got)).To(Succeed())
			g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
			g.Expect(ns.DeletionTimestamp).To(BeNil())
			releaseWork(g, key)
		})
	}
}
