package work

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// claim is how the spoke may treat a live object that has the name of a
// rendered one.
type claim int

const (
	// claimOwned: the object is in the work's record with the same UID.
	claimOwned claim = iota
	// claimAdopt: the object carries this work's servicework label (the
	// spoke created it but stopped before recording it), or it is the
	// shared PriorityClass.
	claimAdopt
	// claimReadopt: the object was retained for a ManagedService of the
	// same namespace, name and engine; the new work takes it back.
	claimReadopt
	// claimConflict: the object belongs to someone else.
	claimConflict
)

// claimOf decides how a work may treat live, the object named like desired.
// entry is the work's record entry for that name, if any. The reason is set
// for claimConflict.
func claimOf(w *fleetv1alpha1.ServiceWork, desired, live *unstructured.Unstructured, entry *Entry) (claim, string) {
	if ref := controllerOf(live); ref != nil {
		return claimConflict, fmt.Sprintf("controlled by %s %s; left untouched", ref.Kind, ref.Name)
	}
	if live.GetKind() == "Namespace" && live.GetDeletionTimestamp() != nil {
		return claimConflict, "is being deleted; nothing is applied into it until it is gone"
	}
	owned := entry != nil && entry.UID == live.GetUID()
	if live.GetKind() == "Namespace" {
		// A platform namespace must name this ManagedService, or be
		// retained for it.
		switch owner := live.GetAnnotations()[render.AnnotationServiceOwner]; {
		case retainedFor(w, live):
			return claimReadopt, ""
		case owner == "" && legacyNamespaceOf(w, live):
			// An older spoke made it for this work and set no owner.
			return claimAdopt, ""
		case owner == "":
			return claimConflict, "exists and was not created by berth for this service"
		case !render.ServiceOwnerMatches(owner, w.Spec.ServiceRef):
			return claimConflict, fmt.Sprintf("belongs to ManagedService %s", owner)
		case owned:
			return claimOwned, ""
		case live.GetLabels()[fleetv1alpha1.LabelServiceWork] == render.WorkLabelValue(w):
			return claimAdopt, ""
		default:
			return claimConflict, fmt.Sprintf("belongs to another ServiceWork of ManagedService %s", owner)
		}
	}
	switch {
	case owned:
		return claimOwned, ""
	case render.Shared(desired) && live.GetLabels()[render.LabelManagedBy] == render.ManagedByBerth:
		return claimAdopt, ""
	case live.GetLabels()[fleetv1alpha1.LabelServiceWork] == render.WorkLabelValue(w):
		return claimAdopt, ""
	case retainedFor(w, live):
		return claimReadopt, ""
	case live.GetLabels()[fleetv1alpha1.LabelRetained] == "true":
		return claimConflict, fmt.Sprintf("was retained for ManagedService %s (engine %s); left untouched",
			live.GetAnnotations()[render.AnnotationRetainedService], live.GetAnnotations()[render.AnnotationRetainedEngine])
	default:
		return claimConflict, "exists and is not in this work's record; left untouched"
	}
}

// controllerOf is the controller ownerReference of o; berth sets none, so
// any controller is someone else.
func controllerOf(o metav1.Object) *metav1.OwnerReference {
	return metav1.GetControllerOfNoCopy(o)
}

// retainedFor reports whether live was retained for a ManagedService with
// w's namespace and name and, when both are known, the same engine.
func retainedFor(w *fleetv1alpha1.ServiceWork, live *unstructured.Unstructured) bool {
	if live.GetLabels()[fleetv1alpha1.LabelRetained] != "true" {
		return false
	}
	a := live.GetAnnotations()
	if a[render.AnnotationRetainedService] != render.ServiceKey(w.Spec.ServiceRef) {
		return false
	}
	engine := a[render.AnnotationRetainedEngine]
	return engine == "" || w.Spec.Service == nil || engine == string(w.Spec.Service.Engine)
}

// isRetained reports whether live carries the retained mark.
func isRetained(live *unstructured.Unstructured) bool {
	return live.GetLabels()[fleetv1alpha1.LabelRetained] == "true"
}

// retainedAnnotations are removed when an object is adopted again.
var retainedAnnotations = []string{
	render.AnnotationRetainedService, render.AnnotationRetainedEngine, render.AnnotationRetainedBy, render.AnnotationRetainedAt,
}

// orphan releases live from work w under deletionPolicy Retain: it drops the
// servicework label (so nothing selecting by work finds it, and operators
// that copy labels drop it from their children), marks it retained and
// notes when, by which work and for which ManagedService. The UID in the
// patch makes it fail on an object recreated meanwhile.
func (b *base) orphan(ctx context.Context, w *fleetv1alpha1.ServiceWork, live *unstructured.Unstructured, now time.Time) error {
	patch := map[string]any{"metadata": map[string]any{
		"uid":         string(live.GetUID()),
		"labels":      map[string]any{fleetv1alpha1.LabelServiceWork: nil, fleetv1alpha1.LabelRetained: "true"},
		"annotations": retainedMarks(w, now),
	}}
	return b.mergePatch(ctx, live, patch, "marking %s retained")
}

// retainedMarks are the labels and annotations of the retained mark of
// work w.
func retainedMarks(w *fleetv1alpha1.ServiceWork, now time.Time) map[string]any {
	annotations := map[string]any{
		render.AnnotationRetainedService: render.ServiceKey(w.Spec.ServiceRef),
		render.AnnotationRetainedBy:      w.Namespace + "/" + w.Name,
		render.AnnotationRetainedAt:      now.UTC().Format(time.RFC3339),
	}
	if w.Spec.Service != nil {
		annotations[render.AnnotationRetainedEngine] = string(w.Spec.Service.Engine)
	}
	return annotations
}

// markRetained puts the retained mark on an object berth did not create
// and does not own (a volume of a retained engine), changing nothing else.
func (b *base) markRetained(ctx context.Context, w *fleetv1alpha1.ServiceWork, live *unstructured.Unstructured, now time.Time) error {
	patch := map[string]any{"metadata": map[string]any{
		"uid":         string(live.GetUID()),
		"labels":      map[string]any{fleetv1alpha1.LabelRetained: "true"},
		"annotations": retainedMarks(w, now),
	}}
	return b.mergePatch(ctx, live, patch, "marking %s retained")
}

// unmarkRetained removes the retained mark from an object berth did not
// create.
func (b *base) unmarkRetained(ctx context.Context, live *unstructured.Unstructured) error {
	annotations := map[string]any{}
	for _, a := range retainedAnnotations {
		annotations[a] = nil
	}
	patch := map[string]any{"metadata": map[string]any{
		"uid":         string(live.GetUID()),
		"labels":      map[string]any{fleetv1alpha1.LabelRetained: nil},
		"annotations": annotations,
	}}
	return b.mergePatch(ctx, live, patch, "removing the retained mark of %s")
}

// readoptVolumes removes the retained mark from the volumes in a platform
// namespace that work w takes back.
func (b *base) readoptVolumes(ctx context.Context, w *fleetv1alpha1.ServiceWork, namespace string) error {
	pvcs := &unstructured.UnstructuredList{}
	pvcs.SetGroupVersionKind(gvkPVC.GroupVersion().WithKind("PersistentVolumeClaimList"))
	if err := b.MemberReader.List(ctx, pvcs, client.InNamespace(namespace), client.MatchingLabels{fleetv1alpha1.LabelRetained: "true"}); err != nil {
		return fmt.Errorf("listing the retained volumes: %w", err)
	}
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		pvc.SetGroupVersionKind(gvkPVC)
		if retainedFor(w, pvc) {
			if err := b.unmarkRetained(ctx, pvc); err != nil {
				return err
			}
		}
	}
	return nil
}

// readopt takes a retained object back for work w: it removes the retained
// mark and sets the work's label. The apply that follows (none for
// create-only objects) makes it current.
func (b *base) readopt(ctx context.Context, w *fleetv1alpha1.ServiceWork, live *unstructured.Unstructured) error {
	annotations := map[string]any{}
	for _, a := range retainedAnnotations {
		annotations[a] = nil
	}
	patch := map[string]any{"metadata": map[string]any{
		"uid":         string(live.GetUID()),
		"labels":      map[string]any{fleetv1alpha1.LabelRetained: nil, fleetv1alpha1.LabelServiceWork: render.WorkLabelValue(w)},
		"annotations": annotations,
	}}
	return b.mergePatch(ctx, live, patch, "adopting retained %s")
}

// mergePatch applies a JSON merge patch to live and updates live from the
// response.
func (b *base) mergePatch(ctx context.Context, live *unstructured.Unstructured, patch map[string]any, what string) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if err := b.Member.Patch(ctx, live, client.RawPatch(types.MergePatchType, raw), client.FieldOwner(render.FieldManager)); err != nil {
		return fmt.Errorf(what+": %w", describe(live), err)
	}
	return nil
}

// retainSet decides which of the leaving entries deletionPolicy Retain
// keeps. It keeps the data: the engine resource (postgresql, RedisFailover,
// RabbitmqCluster) or the built-in StatefulSet, the platform Namespace and
// the generated credentials Secret. When an engine leaves, it also keeps
// what the engine needs to keep running and stay fenced in its platform
// namespace: every other leaving object there (Services, ConfigMaps,
// guard rails) except the remote exposure Service and the app team's
// Role and RoleBinding. Everything else (the consumer binding, and objects
// merely no longer rendered while the engine stays, such as a
// NetworkPolicy replaced by a CiliumNetworkPolicy) is deleted.
func retainSet(w *fleetv1alpha1.ServiceWork, leaving []Entry) map[string]bool {
	ref := w.Spec.ServiceRef
	// Entries in the legacy platform namespace are in the record only when
	// the work kept its data there (see legacyNamespaceOf).
	pns, legacy := render.PlatformNamespace(ref), render.LegacyPlatformNamespace(ref)
	for _, e := range leaving {
		if !e.Shared && e.Namespace == legacy || e.Kind == "Namespace" && e.Group == "" && e.Name == legacy {
			pns = legacy
		}
	}
	generated := render.GeneratedSecretName(ref)
	generated.Namespace = pns
	keep := map[string]bool{}
	engineLeaves := false
	for _, e := range leaving {
		switch {
		case e.Shared:
		case engineKinds[e.GVK().GroupKind()] && e.Namespace == pns:
			keep[e.Key()], engineLeaves = true, true
		case e.Kind == "Namespace" && e.Group == "" && e.Name == pns:
			keep[e.Key()] = true
		case e.Kind == "Secret" && e.Group == "" && e.Namespace == generated.Namespace && e.Name == generated.Name:
			keep[e.Key()] = true
		}
	}
	if !engineLeaves {
		return keep
	}
	for _, e := range leaving {
		if e.Shared || e.Namespace != pns {
			continue
		}
		exposure := e.Kind == "Service" && e.Group == "" && e.Name == render.ExposureServiceName(ref)
		rbac := e.GVK().GroupKind() == gvkRole.GroupKind() || e.GVK().GroupKind() == gvkRoleBinding.GroupKind()
		if !exposure && !rbac {
			keep[e.Key()] = true
		}
	}
	return keep
}

// retainPolicy reports whether a work keeps its data: deletionPolicy
// Retain, the default, and any work whose policy is unknown.
func retainPolicy(w *fleetv1alpha1.ServiceWork) bool {
	return w.Spec.Service == nil || w.Spec.Service.DeletionPolicy != fleetv1alpha1.DeletionPolicyDelete
}
