package work_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// legacyPassword is the password an older spoke generated.
const legacyPassword = "password-generated-by-the-old-spoke"

// createLegacyNamespace plays an older spoke: it creates the platform
// namespace under the old name berth-<ns>-<name>, labelled for the work
// workLabel as that spoke labelled every object (no owner annotation), and
// the generated credentials Secret in it with legacyPassword.
func createLegacyNamespace(g Gomega, w *fleetv1alpha1.ServiceWork, workLabel string) string {
	ctx := context.Background()
	legacy := render.LegacyPlatformNamespace(w.Spec.ServiceRef)
	g.Expect(legacy).NotTo(Equal(render.PlatformNamespace(w.Spec.ServiceRef)))
	labels := map[string]string{
		fleetv1alpha1.LabelServiceWork: workLabel,
		render.LabelPlatformOwned:      "true",
		render.LabelManagedBy:          render.ManagedByBerth,
	}
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: legacy, Labels: labels,
		Annotations: map[string]string{render.AnnotationFlavour: string(render.FlavourBuiltIn)},
	}})).To(Succeed())
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: legacy, Name: render.GeneratedSecretName(w.Spec.ServiceRef).Name, Labels: labels,
			Annotations: map[string]string{render.AnnotationCreateOnly: "true", render.AnnotationKeepOnRetain: "true"},
		},
		Data: map[string][]byte{render.KeyPassword: []byte(legacyPassword)},
	})).To(Succeed())
	return legacy
}

// TestLegacyPlatformNamespaceKeepsItsData: a spoke upgraded onto a member
// where an older spoke put a service into berth-<ns>-<name> keeps the
// service there, with its password, instead of starting an empty namespace.
func TestLegacyPlatformNamespaceKeepsItsData(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := newProviderWork(g, hubNS, "legacy", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyRetain, "legacy-app")
	legacy := createLegacyNamespace(g, w, render.WorkLabelValue(w))
	hashed := render.PlatformNamespace(w.Spec.ServiceRef)
	g.Expect(k8sClient.Create(ctx, w)).To(Succeed())
	key := client.ObjectKeyFromObject(w)

	g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	sts := client.ObjectKey{Namespace: legacy, Name: "legacy"}
	g.Expect(k8sClient.Get(ctx, sts, &appsv1.StatefulSet{})).To(Succeed(), "the engine runs in the legacy namespace")
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: legacy}, ns)).To(Succeed())
	g.Expect(ns.Annotations).To(HaveKeyWithValue(render.AnnotationServiceOwner, render.ServiceOwnerValue(w.Spec.ServiceRef)))
	g.Expect(ns.Annotations).To(HaveKeyWithValue(render.AnnotationFlavour, string(render.FlavourBuiltIn)))

	markStatefulSetReady(g, sts)
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionAvailable), timeout, interval).Should(Equal(metav1.ConditionTrue))
	binding := &corev1.Secret{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: "legacy-app", Name: render.BindingSecretName(w.Spec.ServiceRef)}, binding)
	}, timeout, interval).Should(Succeed())
	g.Expect(string(binding.Data[render.KeyPassword])).To(Equal(legacyPassword), "the app gets the password of the existing data")
	svc := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "legacy-app", Name: "legacy"}, svc)).To(Succeed())
	g.Expect(svc.Spec.ExternalName).To(ContainSubstring("." + legacy + "."))

	g.Consistently(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: hashed}, &corev1.Namespace{}))
	}, testResync+time.Second, interval).Should(BeTrue(), "no empty hashed namespace is created")
	generated := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: legacy, Name: render.GeneratedSecretName(w.Spec.ServiceRef).Name}, generated)).To(Succeed())
	g.Expect(string(generated.Data[render.KeyPassword])).To(Equal(legacyPassword), "the password is kept")

	// Deletion under Retain keeps the legacy namespace and its credentials.
	g.Expect(k8sClient.Delete(ctx, getWork(g, key))).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: legacy}, ns)).To(Succeed())
	expectRetained(g, ns, w)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(generated), generated)).To(Succeed())
	expectRetained(g, generated, w)
	g.Expect(string(generated.Data[render.KeyPassword])).To(Equal(legacyPassword))
	kept := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, sts, kept)).To(Succeed())
	expectRetained(g, kept, w)
	releaseWork(g, key)
}

// TestLegacyNamespaceOfAnotherWorkIsNotAdopted: a berth-<ns>-<name>
// namespace labelled for another work is left alone; the work uses its own
// hashed platform namespace.
func TestLegacyNamespaceOfAnotherWorkIsNotAdopted(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := newProviderWork(g, hubNS, "foreign", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "foreign-app")
	other := "berth-member-w2.team.foreign"
	legacy := createLegacyNamespace(g, w, other)
	hashed := render.PlatformNamespace(w.Spec.ServiceRef)
	g.Expect(k8sClient.Create(ctx, w)).To(Succeed())
	key := client.ObjectKeyFromObject(w)

	g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: hashed, Name: "foreign"}, &appsv1.StatefulSet{})).To(Succeed())
	generated := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, render.GeneratedSecretName(w.Spec.ServiceRef), generated)).To(Succeed())
	g.Expect(string(generated.Data[render.KeyPassword])).NotTo(Equal(legacyPassword), "the other work's credentials are not read")

	sts := &appsv1.StatefulSetList{}
	g.Expect(k8sClient.List(ctx, sts, client.InNamespace(legacy))).To(Succeed())
	g.Expect(sts.Items).To(BeEmpty(), "nothing is applied into the other work's namespace")
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: legacy}, ns)).To(Succeed())
	g.Expect(ns.Annotations).NotTo(HaveKey(render.AnnotationServiceOwner), "the other work's namespace is not touched")
	g.Expect(ns.Labels).To(HaveKeyWithValue(fleetv1alpha1.LabelServiceWork, other))

	g.Expect(k8sClient.Delete(ctx, getWork(g, key))).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: legacy}, ns)).To(Succeed())
	g.Expect(ns.DeletionTimestamp).To(BeNil(), "deleting the work leaves the other work's namespace alone")
	legacySecret := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: legacy, Name: generated.Name}, legacySecret)).To(Succeed())
	g.Expect(string(legacySecret.Data[render.KeyPassword])).To(Equal(legacyPassword))
	releaseWork(g, key)
}
