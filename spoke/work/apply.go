package work

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// prunableKinds are every kind the renderer may produce. Kinds the cluster
// does not serve (an operator that is not installed) are skipped.
var prunableKinds = []schema.GroupVersionKind{
	{Group: "acid.zalan.do", Version: "v1", Kind: "postgresql"},
	{Group: "databases.spotahome.com", Version: "v1", Kind: "RedisFailover"},
	{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"},
	{Group: "cilium.io", Version: "v2", Kind: "CiliumNetworkPolicy"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
	{Version: "v1", Kind: "Service"},
	{Version: "v1", Kind: "Secret"},
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "ResourceQuota"},
	{Version: "v1", Kind: "LimitRange"},
	{Version: "v1", Kind: "Namespace"},
}

var gvkPVC = schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}

// owned reports whether live may be changed by work w.
func owned(live *unstructured.Unstructured, desired *unstructured.Unstructured, w *fleetv1alpha1.ServiceWork) bool {
	if render.Shared(desired) {
		return live.GetLabels()[render.LabelManagedBy] == render.ManagedByBerth
	}
	return live.GetLabels()[fleetv1alpha1.LabelServiceWork] == render.WorkLabelValue(w)
}

func result(o *unstructured.Unstructured, res, msg string) fleetv1alpha1.ObjectResult {
	gvk := o.GroupVersionKind()
	return fleetv1alpha1.ObjectResult{
		Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: o.GetNamespace(), Name: o.GetName(), Result: res, Message: msg,
	}
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", o.GetKind(), o.GetName())
	}
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// applyAll applies every object it may own and reports each result.
func (r *Reconciler) applyAll(ctx context.Context, w *fleetv1alpha1.ServiceWork, objs []*unstructured.Unstructured) (results []fleetv1alpha1.ObjectResult, conflicts, failed []string) {
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		err := r.Member.Get(ctx, client.ObjectKeyFromObject(o), live)
		exists := err == nil
		if err != nil && !apierrors.IsNotFound(err) {
			msg := err.Error()
			if meta.IsNoMatchError(err) {
				msg = fmt.Sprintf("kind %s is not served by this cluster", o.GroupVersionKind())
			}
			results = append(results, result(o, "Failed", msg))
			failed = append(failed, describe(o)+": "+msg)
			continue
		}
		if exists && !owned(live, o, w) {
			msg := fmt.Sprintf("exists and is not owned by berth (no label %s=%s); left untouched", fleetv1alpha1.LabelServiceWork, render.WorkLabelValue(w))
			results = append(results, result(o, "Conflict", msg))
			conflicts = append(conflicts, describe(o))
			continue
		}
		if exists && render.CreateOnly(o) {
			results = append(results, result(o, "Applied", "created once, never updated"))
			continue
		}
		if err := r.Member.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner(render.FieldManager), client.ForceOwnership); err != nil {
			results = append(results, result(o, "Failed", err.Error()))
			failed = append(failed, describe(o)+": "+err.Error())
			continue
		}
		results = append(results, result(o, "Applied", ""))
	}
	return results, conflicts, failed
}

// listOwned lists every object of the prunable kinds carrying the work's
// label.
func (r *Reconciler) listOwned(ctx context.Context, w *fleetv1alpha1.ServiceWork) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	sel := client.MatchingLabels{fleetv1alpha1.LabelServiceWork: render.WorkLabelValue(w)}
	for _, gvk := range prunableKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := r.Member.List(ctx, list, sel); err != nil {
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for i := range list.Items {
			u := list.Items[i]
			u.SetGroupVersionKind(gvk)
			out = append(out, &u)
		}
	}
	return out, nil
}

func retainPolicy(w *fleetv1alpha1.ServiceWork) bool {
	return w.Spec.Service == nil || w.Spec.Service.DeletionPolicy != fleetv1alpha1.DeletionPolicyDelete
}

// prune removes owned objects the work no longer renders, keeping under
// deletionPolicy Retain what Retain keeps.
func (r *Reconciler) prune(ctx context.Context, w *fleetv1alpha1.ServiceWork, desired []*unstructured.Unstructured, keepSecrets bool) ([]fleetv1alpha1.ObjectResult, error) {
	want := map[string]bool{}
	for _, o := range desired {
		want[key(o)] = true
	}
	live, err := r.listOwned(ctx, w)
	if err != nil {
		return nil, err
	}
	var results []fleetv1alpha1.ObjectResult
	for _, o := range live {
		if want[key(o)] || o.GetDeletionTimestamp() != nil || o.GetLabels()[fleetv1alpha1.LabelRetained] == "true" {
			continue
		}
		if keepSecrets && o.GetKind() == "Secret" {
			continue
		}
		res, err := r.remove(ctx, o, retainPolicy(w))
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

// remove deletes o, or labels it retained when keep is set and o is kept by
// Retain.
func (r *Reconciler) remove(ctx context.Context, o *unstructured.Unstructured, keep bool) (fleetv1alpha1.ObjectResult, error) {
	if keep && (render.KeepOnRetain(o) || o.GroupVersionKind() == gvkPVC) {
		if err := r.markRetained(ctx, o); err != nil {
			return fleetv1alpha1.ObjectResult{}, err
		}
		return result(o, "Retained", "kept by deletionPolicy Retain"), nil
	}
	if err := r.Member.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
		return fleetv1alpha1.ObjectResult{}, fmt.Errorf("deleting %s: %w", describe(o), err)
	}
	return result(o, "Deleted", ""), nil
}

func (r *Reconciler) markRetained(ctx context.Context, o *unstructured.Unstructured) error {
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:"true"}}}`, fleetv1alpha1.LabelRetained)
	if err := r.Member.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("labelling %s retained: %w", describe(o), err)
	}
	return nil
}

// reconcileDelete removes what the work rendered and reports Removed=True
// once nothing but retained objects is left.
func (r *Reconciler) reconcileDelete(ctx context.Context, w *fleetv1alpha1.ServiceWork) error {
	keep := hasRole(w, fleetv1alpha1.RoleProvider) && retainPolicy(w)
	live, err := r.listOwned(ctx, w)
	if err != nil {
		return err
	}
	if keep {
		// Volumes are made by the StatefulSet controller or the operator,
		// not rendered: find them in the platform namespace.
		pvcs := &unstructured.UnstructuredList{}
		pvcs.SetGroupVersionKind(gvkPVC.GroupVersion().WithKind("PersistentVolumeClaimList"))
		if err := r.Member.List(ctx, pvcs, client.InNamespace(render.PlatformNamespace(w.Spec.ServiceRef))); err != nil {
			return fmt.Errorf("listing volumes: %w", err)
		}
		for i := range pvcs.Items {
			u := pvcs.Items[i]
			u.SetGroupVersionKind(gvkPVC)
			live = append(live, &u)
		}
	}
	var results []fleetv1alpha1.ObjectResult
	remaining := 0
	for _, o := range live {
		if o.GetLabels()[fleetv1alpha1.LabelRetained] == "true" {
			results = append(results, result(o, "Retained", "kept by deletionPolicy Retain"))
			continue
		}
		if o.GetDeletionTimestamp() != nil {
			if o.GetKind() != "Namespace" { // the namespace controller finishes those
				remaining++
			}
			continue
		}
		res, err := r.remove(ctx, o, keep)
		if err != nil {
			return err
		}
		if res.Result == "Deleted" && o.GetKind() != "Namespace" {
			remaining++
		}
		results = append(results, res)
	}
	if err := r.Hub.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.HubNamespace, Name: w.Name + ".published"}}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting published credentials: %w", err)
	}
	w.Status.Objects = results
	if remaining > 0 {
		setCondition(w, fleetv1alpha1.ConditionRemoved, metav1.ConditionFalse, "Removing", fmt.Sprintf("%d object(s) still being deleted", remaining))
		// Deletion events of the watched objects bring us back.
		return nil
	}
	msg := "Everything rendered was deleted"
	if keep {
		msg = "Deleted; volumes, credentials and the platform namespace retained (label " + fleetv1alpha1.LabelRetained + "=true)"
	}
	setCondition(w, fleetv1alpha1.ConditionRemoved, metav1.ConditionTrue, "Cleaned", msg)
	return nil
}

func key(o *unstructured.Unstructured) string {
	gvk := o.GroupVersionKind()
	return gvk.Group + "/" + gvk.Kind + "/" + o.GetNamespace() + "/" + o.GetName()
}

// setConflictCondition names the objects berth does not own.
func setConflictCondition(w *fleetv1alpha1.ServiceWork, conflicts []string) {
	if len(conflicts) == 0 {
		setCondition(w, fleetv1alpha1.ConditionConflict, metav1.ConditionFalse, "NoConflict", "")
		return
	}
	setCondition(w, fleetv1alpha1.ConditionConflict, metav1.ConditionTrue, fleetv1alpha1.ReasonObjectConflict,
		"Not owned by berth, left untouched: "+strings.Join(conflicts, ", "))
}

// setAppliedCondition is True when every object was applied.
func setAppliedCondition(w *fleetv1alpha1.ServiceWork, conflicts, failed, pending []string) {
	switch {
	case len(failed) > 0:
		setCondition(w, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonApplyFailed, strings.Join(failed, "; "))
	case len(conflicts) > 0:
		setCondition(w, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonObjectConflict, "Conflicting objects: "+strings.Join(conflicts, ", "))
	case len(pending) > 0:
		setCondition(w, fleetv1alpha1.ConditionApplied, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "Applied; waiting for: "+strings.Join(pending, "; "))
	default:
		setCondition(w, fleetv1alpha1.ConditionApplied, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "")
	}
}

// equalStatus ignores condition timestamps that SetStatusCondition keeps.
func equalStatus(a, b *fleetv1alpha1.ServiceWorkStatus) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}
