package operators

import (
	"context"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// berthLabels stand for the labels berth's spoke puts on what it renders.
var berthLabels = map[string]string{"fleet.berth.io/servicework": "shop-orders", "fleet.berth.io/managed": "true"}

// newResource builds an operator resource with a spec, as the spoke
// renders it.
func newResource(gvk schema.GroupVersionKind, ns, name string, labels map[string]string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

// getResource reads an operator resource.
func getResource(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
	return u, err
}

// gone reports whether the object no longer exists.
func gone(ctx context.Context, obj client.Object) func() error {
	return func() error {
		err := admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errStillThere(obj)
	}
}

type stillThere struct{ obj client.Object }

func (e stillThere) Error() string {
	return "still there: " + client.ObjectKeyFromObject(e.obj).String()
}

func errStillThere(obj client.Object) error { return stillThere{obj} }

// key is a namespaced object's metadata.
func key(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

// expectControlledBy checks obj has exactly one ownerReference, a
// controller reference to owner.
func expectControlledBy(g Gomega, obj client.Object, owner *unstructured.Unstructured) {
	refs := obj.GetOwnerReferences()
	g.Expect(refs).To(HaveLen(1), "ownerReferences of %T %s", obj, obj.GetName())
	g.Expect(refs[0].UID).To(Equal(owner.GetUID()))
	g.Expect(refs[0].Kind).To(Equal(owner.GetKind()))
	g.Expect(refs[0].Controller).To(HaveValue(BeTrue()))
}

// podsOf lists the pods matching labels in ns.
func podsOf(ctx context.Context, g Gomega, ns string, labels map[string]string) []corev1.Pod {
	pods := &corev1.PodList{}
	g.Expect(admin.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(labels))).To(Succeed())
	return pods.Items
}

// rolesOf counts the pods by their value of label.
func rolesOf(pods []corev1.Pod, label string) map[string]int {
	out := map[string]int{}
	for _, p := range pods {
		out[p.Labels[label]]++
	}
	return out
}

// expectNoBerthLabels checks that none of berth's labels reached obj.
func expectNoBerthLabels(g Gomega, obj client.Object) {
	for k := range berthLabels {
		g.Expect(obj.GetLabels()).NotTo(HaveKey(k), "%T %s", obj, obj.GetName())
	}
}

// expectBerthLabels checks that all of berth's labels reached obj.
func expectBerthLabels(g Gomega, obj client.Object) {
	for k, v := range berthLabels {
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue(k, v), "%T %s", obj, obj.GetName())
	}
}
