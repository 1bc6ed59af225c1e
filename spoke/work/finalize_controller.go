package work

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// finalizeRecheck is how soon a deletion in progress is looked at again
// when no event arrives (an operator's finalizer on the engine resource).
const finalizeRecheck = 10 * time.Second

// FinalizeReconciler acts on a deletion the hub asked for (a ServiceWork
// with a deletionTimestamp): it orphans what deletionPolicy Retain keeps,
// deletes the rest of the work's record and waits until it is gone, then
// reports Removed=True so that the hub releases the work.
type FinalizeReconciler struct {
	*base
}

// Reconcile finalizes one ServiceWork.
func (r *FinalizeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	w := &fleetv1alpha1.ServiceWork{}
	if err := r.Hub.Get(ctx, req.NamespacedName, w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	defer r.lockWork(req.NamespacedName)()
	rec, err := r.loadRecord(ctx, w)
	if err != nil {
		return ctrl.Result{}, err
	}
	if rec.cm == nil && meta.IsStatusConditionTrue(w.Status.Conditions, fleetv1alpha1.ConditionRemoved) {
		return ctrl.Result{}, nil
	}
	keep := hasRole(w, fleetv1alpha1.RoleProvider) && retainPolicy(w)
	retain := map[string]bool{}
	if keep {
		retain = retainSet(w, rec.Entries)
	}
	now := time.Now()
	results := map[string]fleetv1alpha1.ObjectResult{}
	var remaining, stay []Entry
	// Namespaces go last: their contents first, so that operators finalize
	// their resources in a living namespace.
	var namespaces []Entry
	for _, e := range rec.Entries {
		if e.Kind == "Namespace" && e.Group == "" {
			namespaces = append(namespaces, e)
			continue
		}
		res, inRecord, err := r.release(ctx, w, e, retain[e.Key()], now)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("releasing %s: %w", e, err)
		}
		if res != nil {
			results[e.Key()] = *res
		}
		if inRecord {
			stay = append(stay, e)
			remaining = append(remaining, e)
		}
	}
	if len(remaining) == 0 {
		for _, e := range namespaces {
			res, _, err := r.release(ctx, w, e, retain[e.Key()], now)
			if err != nil {
				return ctrl.Result{}, fmt.Errorf("releasing %s: %w", e, err)
			}
			if res != nil {
				if res.Result == resultDeleted {
					// The namespace controller finishes the deletion.
					res.Message = "deletion requested; the namespace controller removes what is left in it"
				}
				results[e.Key()] = *res
			}
		}
	} else {
		stay = append(stay, namespaces...)
	}
	if err := r.unpublish(ctx, w); err != nil {
		return ctrl.Result{}, err
	}

	// The status is written before the record shrinks: a pass whose status
	// write fails is repeated with the same record, and reports the same.
	st := w.Status.DeepCopy()
	st.Objects = mergeResults(w.Status.Objects, results)
	result := ctrl.Result{}
	if len(remaining) > 0 {
		names := make([]string, 0, len(remaining))
		for _, e := range remaining {
			names = append(names, e.String())
		}
		setCondition(w, st, fleetv1alpha1.ConditionRemoved, metav1.ConditionFalse, "Removing",
			fmt.Sprintf("%d object(s) still being deleted: %s", len(remaining), strings.Join(names, ", ")))
		result.RequeueAfter = finalizeRecheck
	} else {
		volumes, err := r.retainedVolumes(ctx, w, st.Objects, now)
		if err != nil {
			return ctrl.Result{}, err
		}
		st.Objects = append(st.Objects, volumes...)
		setCondition(w, st, fleetv1alpha1.ConditionRemoved, metav1.ConditionTrue, "Cleaned", removedMessage(st.Objects))
	}
	if err := r.writeStatus(ctx, w, st); err != nil {
		return r.statusResult(err)
	}
	if len(stay) > 0 {
		if err := r.saveRecord(ctx, w, rec, stay); err != nil {
			return ctrl.Result{}, err
		}
	} else if err := r.deleteRecord(ctx, w, rec); err != nil {
		return ctrl.Result{}, err
	}
	return result, nil
}

// unpublish deletes the published credentials on the hub, if any.
func (r *FinalizeReconciler) unpublish(ctx context.Context, w *fleetv1alpha1.ServiceWork) error {
	sec := &corev1.Secret{}
	err := r.Hub.Get(ctx, client.ObjectKey{Namespace: r.HubNamespace, Name: w.Name + publishedSuffix}, sec)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := r.Hub.Delete(ctx, sec); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting published credentials: %w", err)
	}
	return nil
}

// retainedVolumes marks and reports the PersistentVolumeClaims of a retained
// platform namespace: made by the StatefulSet controller or the operator,
// never by berth, and kept with the engine that uses them. They get the
// retained mark (a label and annotations, nothing else changes) so that
// `kubectl get pvc -l fleet.berth.io/retained=true` finds the kept data.
func (r *FinalizeReconciler) retainedVolumes(ctx context.Context, w *fleetv1alpha1.ServiceWork, results []fleetv1alpha1.ObjectResult, now time.Time) ([]fleetv1alpha1.ObjectResult, error) {
	pns, legacy := render.PlatformNamespace(w.Spec.ServiceRef), render.LegacyPlatformNamespace(w.Spec.ServiceRef)
	if slices.ContainsFunc(results, func(o fleetv1alpha1.ObjectResult) bool { return o.Kind == "Namespace" && o.Name == legacy }) {
		// The work kept its data in the legacy platform namespace.
		pns = legacy
	}
	retained := slices.ContainsFunc(results, func(o fleetv1alpha1.ObjectResult) bool {
		return o.Result == resultRetained && (o.Namespace == pns || o.Kind == "Namespace" && o.Name == pns)
	})
	if !retained {
		return nil, nil
	}
	pvcs := &unstructured.UnstructuredList{}
	pvcs.SetGroupVersionKind(gvkPVC.GroupVersion().WithKind("PersistentVolumeClaimList"))
	if err := r.MemberReader.List(ctx, pvcs, client.InNamespace(pns)); err != nil {
		return nil, fmt.Errorf("listing the retained volumes: %w", err)
	}
	var out []fleetv1alpha1.ObjectResult
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		pvc.SetGroupVersionKind(gvkPVC)
		if slices.ContainsFunc(results, func(o fleetv1alpha1.ObjectResult) bool {
			return o.Kind == "PersistentVolumeClaim" && o.Namespace == pns && o.Name == pvc.GetName()
		}) || pvc.GetDeletionTimestamp() != nil {
			continue
		}
		if !isRetained(pvc) {
			if err := r.markRetained(ctx, w, pvc, now); err != nil {
				return nil, err
			}
		}
		out = append(out, result(gvkPVC, pns, pvc.GetName(), resultRetained, "volume of the retained engine (not created by berth), labelled "+fleetv1alpha1.LabelRetained+"=true"))
	}
	return out, nil
}

// mergeResults keeps the outcome of earlier finalize passes (Retained,
// Deleted, Conflict) and adds or replaces this pass's.
func mergeResults(prev []fleetv1alpha1.ObjectResult, now map[string]fleetv1alpha1.ObjectResult) []fleetv1alpha1.ObjectResult {
	keyOfResult := func(o fleetv1alpha1.ObjectResult) string {
		return objectKey(schemaGVK(o), o.Namespace, o.Name)
	}
	var out []fleetv1alpha1.ObjectResult
	seen := map[string]bool{}
	for _, o := range prev {
		k := keyOfResult(o)
		if n, ok := now[k]; ok {
			out, seen[k] = append(out, n), true
			continue
		}
		if o.Result == resultRetained || o.Result == resultDeleted || o.Result == resultConflict {
			out = append(out, o)
		}
	}
	keys := make([]string, 0, len(now))
	for k := range now {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, now[k])
	}
	return out
}

// removedMessage says what was deleted and what was retained.
func removedMessage(results []fleetv1alpha1.ObjectResult) string {
	var deleted int
	var retained, untouched []string
	for _, o := range results {
		name := o.Kind + " " + o.Name
		if o.Namespace != "" {
			name = o.Kind + " " + o.Namespace + "/" + o.Name
		}
		switch o.Result {
		case resultDeleted:
			deleted++
		case resultRetained:
			retained = append(retained, name)
		case resultConflict:
			untouched = append(untouched, name)
		}
	}
	msg := fmt.Sprintf("Deleted %d object(s)", deleted)
	if len(retained) == 0 {
		msg += "; nothing retained"
	} else {
		msg += fmt.Sprintf("; retained (label %s=true): %s", fleetv1alpha1.LabelRetained, strings.Join(retained, ", "))
	}
	if len(untouched) > 0 {
		msg += "; left untouched (not berth's): " + strings.Join(untouched, ", ")
	}
	return msg
}
