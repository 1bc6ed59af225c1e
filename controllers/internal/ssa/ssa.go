package ssa

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// ToUnstructured converts a typed object into an apply patch: its GVK is set
// from the scheme, and status, creationTimestamp, resourceVersion and
// managedFields are dropped.
func ToUnstructured(obj client.Object, scheme *runtime.Scheme) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, fmt.Errorf("looking up kind of %T: %w", obj, err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	return u, nil
}

// Apply server-side applies obj (its spec and metadata) as fieldOwner,
// forcing ownership of the fields it sets.
func Apply(ctx context.Context, c client.Client, obj client.Object, fieldOwner string) error {
	u, err := ToUnstructured(obj, c.Scheme())
	if err != nil {
		return err
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// ApplyStatus server-side applies status on the status subresource of the
// object of kind gvk named by key, as fieldOwner. status must hold only the
// fields the owner manages: fields it managed before and leaves out are
// removed.
func ApplyStatus(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, status map[string]any, fieldOwner string) error {
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying status of %s %s: %w", gvk.Kind, key, err)
	}
	return nil
}

// ToMap converts a typed value (a status struct, a condition) into the
// map form ApplyStatus takes.
func ToMap(v any) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", v, err)
	}
	return m, nil
}
