package work_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
	"github.com/berth-io/berth/spoke/work"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

func ensureNamespace(g Gomega, name string) {
	err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if !apierrors.IsAlreadyExists(err) {
		g.Expect(err).NotTo(HaveOccurred())
	}
}

// colocatedWork creates a co-located built-in Redis work as the hub would.
func colocatedWork(g Gomega, name, consumerNS string, policy fleetv1alpha1.DeletionPolicy) *fleetv1alpha1.ServiceWork {
	ensureNamespace(g, consumerNS)
	w := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: hubNS, Name: "team." + name,
			Finalizers: []string{fleetv1alpha1.FinalizerWork},
		},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team", Name: name, Generation: 1},
			Service: &fleetv1alpha1.ServiceTemplate{
				Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 1,
				Storage:        fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
				DeletionPolicy: policy,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: member, Namespaces: []string{consumerNS}},
			Provider: &fleetv1alpha1.ProviderReference{Cluster: member},
		},
	}
	g.Expect(k8sClient.Create(context.Background(), w)).To(Succeed())
	return w
}

func platformNS(name string) string {
	return render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "team", Name: name})
}

// markStatefulSetReady plays the StatefulSet controller, which envtest lacks.
func markStatefulSetReady(g Gomega, key client.ObjectKey) {
	ctx := context.Background()
	g.Eventually(func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key, sts); err != nil {
			return err
		}
		sts.Status.Replicas = *sts.Spec.Replicas
		sts.Status.ReadyReplicas = *sts.Spec.Replicas
		sts.Status.AvailableReplicas = *sts.Spec.Replicas
		sts.Status.CurrentReplicas = *sts.Spec.Replicas
		sts.Status.UpdatedReplicas = *sts.Spec.Replicas
		sts.Status.ObservedGeneration = sts.Generation
		return k8sClient.Status().Update(ctx, sts)
	}, timeout, interval).Should(Succeed())
}

func workCondition(key client.ObjectKey, t string) func() metav1.ConditionStatus {
	return func() metav1.ConditionStatus {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(context.Background(), key, w); err != nil {
			return ""
		}
		c := meta.FindStatusCondition(w.Status.Conditions, t)
		if c == nil {
			return ""
		}
		return c.Status
	}
}

func TestColocatedWorkBecomesAvailableAndBindsTheApp(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := colocatedWork(g, "cache", "shop", fleetv1alpha1.DeletionPolicyRetain)
	key := client.ObjectKeyFromObject(w)
	pns := platformNS("cache")

	g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue(render.LabelPlatformOwned, "true"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "cache"}, &appsv1.StatefulSet{})).To(Succeed())
	nps := &networkingv1.NetworkPolicyList{}
	g.Expect(k8sClient.List(ctx, nps, client.InNamespace(pns))).To(Succeed())
	g.Expect(nps.Items).NotTo(BeEmpty(), "guard rails are rendered")
	g.Consistently(workCondition(key, fleetv1alpha1.ConditionAvailable), time.Second, interval).Should(Equal(metav1.ConditionFalse))

	markStatefulSetReady(g, client.ObjectKey{Namespace: pns, Name: "cache"})
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionAvailable), timeout, interval).Should(Equal(metav1.ConditionTrue))
	got := &fleetv1alpha1.ServiceWork{}
	g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
	g.Expect(got.Status.Endpoint).NotTo(BeNil())
	g.Expect(got.Status.Endpoint.Host).To(Equal("cache"), "apps use the same name wherever the service runs")
	g.Expect(got.Status.Endpoint.SecretName).To(Equal(render.BindingSecretName(w.Spec.ServiceRef)))
	g.Expect(got.Status.ReadyReplicas).To(Equal(int32(1)))
	g.Expect(got.Status.CredentialsSecret).To(BeEmpty(), "co-located credentials are not published to the hub")
	g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))

	binding := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "shop", Name: render.BindingSecretName(w.Spec.ServiceRef)}, binding)).To(Succeed())
	g.Expect(binding.Data).To(HaveKey(render.KeyPassword))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "cache"}, &corev1.Service{})).To(Succeed())

	// Drift: a deleted Service and an edited NetworkPolicy come back.
	svc := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "cache"}, svc)).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "cache"}, &corev1.Service{})
	}, timeout, interval).Should(Succeed())

	np := nps.Items[0].DeepCopy()
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}} // allow everything
	g.Expect(k8sClient.Update(ctx, np)).To(Succeed())
	g.Eventually(func() int {
		cur := &networkingv1.NetworkPolicy{}
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(np), cur)
		for _, rule := range cur.Spec.Ingress {
			if len(rule.From) == 0 && len(rule.Ports) == 0 {
				return 1
			}
		}
		return 0
	}, timeout, interval).Should(Equal(0), "an allow-all edit is undone")

	// Deletion with Retain keeps the data: the StatefulSet is orphaned
	// (running, no longer selected by the work), with its namespace and its
	// credentials; the consumer binding goes.
	password := string(binding.Data[render.KeyPassword])
	g.Expect(k8sClient.Delete(ctx, got)).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	sts := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "cache"}, sts)).To(Succeed())
	expectRetained(g, sts, w)
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
	expectRetained(g, ns, w)
	g.Expect(ns.DeletionTimestamp).To(BeNil())
	kept := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, render.GeneratedSecretName(w.Spec.ServiceRef), kept)).To(Succeed())
	expectRetained(g, kept, w)
	g.Expect(string(kept.Data[render.KeyPassword])).To(Equal(password), "the retained credentials open the retained data")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "cache"}, &corev1.Service{}))).To(BeTrue(), "the binding goes")
	g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
	removed := meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionRemoved)
	g.Expect(removed.Message).To(And(ContainSubstring("StatefulSet "+pns+"/cache"), ContainSubstring("Namespace "+pns)))
	g.Expect(got.Status.Objects).To(ContainElement(And(HaveField("Kind", "StatefulSet"), HaveField("Result", "Retained"))))
	g.Expect(got.Status.Objects).To(ContainElement(And(HaveField("Kind", "Service"), HaveField("Namespace", "shop"), HaveField("Result", "Deleted"))))
	expectNoRecord(g, got)
}

func TestConflictLeavesForeignObjectUntouched(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureNamespace(g, "billing")
	foreign := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "ledger", Labels: map[string]string{"owner": "app-team"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 9999}}},
	}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
	w := colocatedWork(g, "ledger", "billing", fleetv1alpha1.DeletionPolicyDelete)
	key := client.ObjectKeyFromObject(w)

	g.Eventually(workCondition(key, fleetv1alpha1.ConditionConflict), timeout, interval).Should(Equal(metav1.ConditionTrue))
	got := &fleetv1alpha1.ServiceWork{}
	g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
	c := meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionConflict)
	g.Expect(c.Message).To(ContainSubstring("Service billing/ledger"))
	g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionApplied)).To(BeFalse())
	g.Expect(got.Status.Objects).To(ContainElement(And(
		HaveField("Kind", "Service"), HaveField("Namespace", "billing"), HaveField("Result", "Conflict"))))

	after := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), after)).To(Succeed())
	g.Expect(after.Spec.Ports[0].Port).To(Equal(int32(9999)))
	g.Expect(after.Labels).NotTo(HaveKey(fleetv1alpha1.LabelServiceWork))

	// Deletion with Delete removes what berth rendered, and only that.
	g.Expect(k8sClient.Delete(ctx, got)).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), after)).To(Succeed(), "the foreign object survives")
	ns := &corev1.Namespace{}
	err := k8sClient.Get(ctx, client.ObjectKey{Name: platformNS("ledger")}, ns)
	g.Expect(apierrors.IsNotFound(err) || ns.DeletionTimestamp != nil).To(BeTrue(), "the platform namespace is deleted with Delete")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, render.GeneratedSecretName(w.Spec.ServiceRef), &corev1.Secret{}))).To(BeTrue(),
		"the credentials are deleted with Delete")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: platformNS("ledger"), Name: "ledger"}, &appsv1.StatefulSet{}))).To(BeTrue(),
		"the engine is deleted with Delete")
	g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionRemoved).Message).To(ContainSubstring("nothing retained"))
}

// expectRetained checks the retained mark Retain leaves on an object of w.
func expectRetained(g Gomega, o client.Object, w *fleetv1alpha1.ServiceWork) {
	g.Expect(o.GetLabels()).To(HaveKeyWithValue(fleetv1alpha1.LabelRetained, "true"), "%T %s", o, o.GetName())
	g.Expect(o.GetLabels()).NotTo(HaveKey(fleetv1alpha1.LabelServiceWork), "%T %s", o, o.GetName())
	g.Expect(o.GetAnnotations()).To(HaveKeyWithValue(render.AnnotationRetainedService, w.Spec.ServiceRef.Namespace+"/"+w.Spec.ServiceRef.Name))
	g.Expect(o.GetAnnotations()).To(HaveKeyWithValue(render.AnnotationRetainedBy, w.Namespace+"/"+w.Name))
	g.Expect(o.GetAnnotations()).To(HaveKey(render.AnnotationRetainedAt))
	g.Expect(o.GetDeletionTimestamp()).To(BeNil())
}

// record reads the record of w.
func record(g Gomega, w *fleetv1alpha1.ServiceWork) []work.Entry {
	cm := &corev1.ConfigMap{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: systemNS, Name: work.RecordName(w)}, cm)).To(Succeed())
	var entries []work.Entry
	g.Expect(json.Unmarshal([]byte(cm.Data["objects"]), &entries)).To(Succeed())
	return entries
}

// expectNoRecord checks that the record of w is gone.
func expectNoRecord(g Gomega, w *fleetv1alpha1.ServiceWork) {
	err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: systemNS, Name: work.RecordName(w)}, &corev1.ConfigMap{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the record is deleted with the work: %v", err)
}
