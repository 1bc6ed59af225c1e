package work

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// Results of status.objects.
const (
	resultApplied  = "Applied"
	resultConflict = "Conflict"
	resultFailed   = "Failed"
	resultRetained = "Retained"
	resultDeleted  = "Deleted"

	// msgGone is the message of a recorded object found gone.
	msgGone = "gone"
)

func result(gvk schema.GroupVersionKind, namespace, name, res, msg string) fleetv1alpha1.ObjectResult {
	return fleetv1alpha1.ObjectResult{
		Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: namespace, Name: name, Result: res, Message: msg,
	}
}

func objectResult(o *unstructured.Unstructured, res, msg string) fleetv1alpha1.ObjectResult {
	return result(o.GroupVersionKind(), o.GetNamespace(), o.GetName(), res, msg)
}

func entryResult(e Entry, res, msg string) fleetv1alpha1.ObjectResult {
	return result(e.GVK(), e.Namespace, e.Name, res, msg)
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", o.GetKind(), o.GetName())
	}
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// getLive reads an object through the member cache, and on a cache miss
// live: the cache only holds labelled objects, and an object without the
// labels (someone else's, or retained) must never be taken for missing.
// It returns nil when the object does not exist.
func (b *base) getLive(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	u := newObject(gvk)
	err := b.memberCache.Get(ctx, key, u)
	if apierrors.IsNotFound(err) {
		u = newObject(gvk)
		err = b.MemberReader.Get(ctx, key, u)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case meta.IsNoMatchError(err):
		return nil, fmt.Errorf("kind %s is not served by this cluster: %w", gvk, err)
	case err != nil:
		return nil, err
	}
	return u, nil
}

// applyPass applies one work's rendered objects and prunes what it no
// longer renders.
type applyPass struct {
	b   *base
	w   *fleetv1alpha1.ServiceWork
	rec *Record
	now time.Time

	// entries is the record being built.
	entries   []Entry
	results   []fleetv1alpha1.ObjectResult
	conflicts []string
	failed    []string
	// applies counts the server-side applies and patches sent.
	applies int
}

func (p *applyPass) conflict(o *unstructured.Unstructured, msg string) {
	p.results = append(p.results, objectResult(o, resultConflict, msg))
	p.conflicts = append(p.conflicts, describe(o))
}

func (p *applyPass) fail(o *unstructured.Unstructured, err error) {
	p.results = append(p.results, objectResult(o, resultFailed, err.Error()))
	p.failed = append(p.failed, describe(o)+": "+err.Error())
}

// keepEntry carries an entry over to the new record unchanged.
func (p *applyPass) keepEntry(e *Entry) {
	if e != nil {
		p.entries = append(p.entries, *e)
	}
}

// checkNamespace decides whether the work may apply into its namespace o
// (the platform namespace, or the ClusterMesh stub's). It returns a
// non-empty reason when the namespace belongs to someone else.
func (p *applyPass) checkNamespace(ctx context.Context, o *unstructured.Unstructured) (string, error) {
	live, err := p.b.getLive(ctx, o.GroupVersionKind(), "", o.GetName())
	if err != nil || live == nil {
		return "", err
	}
	var entry *Entry
	if e, ok := p.rec.find(keyOf(o)); ok {
		entry = &e
	}
	if c, reason := claimOf(p.w, o, live, entry); c == claimConflict {
		return fmt.Sprintf("Namespace %s %s", o.GetName(), reason), nil
	}
	return "", nil
}

// apply applies one rendered object. It skips the call when the record
// shows the same content was applied to the same object and nobody changed
// the spoke's fields since (see fieldsHash).
func (p *applyPass) apply(ctx context.Context, o *unstructured.Unstructured) {
	var entry *Entry
	if e, ok := p.rec.find(keyOf(o)); ok {
		entry = &e
	}
	live, err := p.b.getLive(ctx, o.GroupVersionKind(), o.GetNamespace(), o.GetName())
	if err != nil {
		p.fail(o, err)
		p.keepEntry(entry)
		return
	}
	createOnly := render.CreateOnly(o)
	hash := ""
	if !createOnly {
		if hash, err = contentHash(o); err != nil {
			p.fail(o, err)
			p.keepEntry(entry)
			return
		}
	}
	shared := render.Shared(o)
	if live == nil {
		p.serverSideApply(ctx, o, hash, shared)
		return
	}
	c, reason := claimOf(p.w, o, live, entry)
	switch c {
	case claimConflict:
		// Not ours: never applied, and dropped from the record so that it
		// is never pruned or deleted either.
		p.conflict(o, reason)
		return
	case claimOwned:
		if live.GetDeletionTimestamp() != nil {
			p.fail(o, fmt.Errorf("is being deleted; it is created again once it is gone"))
			p.keepEntry(entry)
			return
		}
		readopted := false
		if isRetained(live) {
			if err := p.b.readopt(ctx, p.w, live); err != nil {
				p.fail(o, err)
				p.keepEntry(entry)
				return
			}
			p.applies++
			readopted = true
		}
		if createOnly {
			p.results = append(p.results, objectResult(o, resultApplied, "created once, never updated"))
			p.keepEntry(entry)
			return
		}
		if !readopted && entry.Hash == hash && (entry.Shared || entry.Fields == fieldsHash(live)) {
			p.results = append(p.results, objectResult(o, resultApplied, ""))
			p.keepEntry(entry)
			return
		}
		p.serverSideApply(ctx, o, hash, shared)
	case claimAdopt, claimReadopt:
		log := ctrl.LoggerFrom(ctx)
		if c == claimReadopt || isRetained(live) {
			log.Info("Adopting a retained object", "object", describe(o), "retainedBy", live.GetAnnotations()[render.AnnotationRetainedBy])
			if o.GetKind() == "Namespace" {
				// Its volumes come back with it.
				if err := p.b.readoptVolumes(ctx, p.w, o.GetName()); err != nil {
					p.fail(o, err)
					return
				}
			}
			if err := p.b.readopt(ctx, p.w, live); err != nil {
				p.fail(o, err)
				return
			}
			p.applies++
		} else if !shared {
			log.Info("Adopting an object labelled for this work but not in its record", "object", describe(o))
		}
		if createOnly {
			p.entries = append(p.entries, Entry{
				Group: o.GroupVersionKind().Group, Version: o.GroupVersionKind().Version, Kind: o.GetKind(),
				Namespace: o.GetNamespace(), Name: o.GetName(), UID: live.GetUID(), Fields: fieldsHash(live),
			})
			p.results = append(p.results, objectResult(o, resultApplied, "created once, never updated"))
			return
		}
		p.serverSideApply(ctx, o, hash, shared)
	}
}

// serverSideApply applies o and records the result.
func (p *applyPass) serverSideApply(ctx context.Context, o *unstructured.Unstructured, hash string, shared bool) {
	obj := o.DeepCopy()
	p.applies++
	if err := p.b.Member.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(render.FieldManager), client.ForceOwnership); err != nil {
		p.fail(o, err)
		return
	}
	gvk := o.GroupVersionKind()
	p.entries = append(p.entries, Entry{
		Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName(),
		UID: obj.GetUID(), Hash: hash, Fields: fieldsHash(obj), Shared: shared,
	})
	p.results = append(p.results, objectResult(o, resultApplied, ""))
}

// prune removes the recorded objects the work no longer renders: deleted,
// or orphaned under deletionPolicy Retain (see retainSet). Objects whose
// UID changed, or that someone else now controls, are dropped from the
// record and left alone. keepSecrets keeps recorded Secrets (the binding
// waits for credentials: keep the ones apps use meanwhile).
func (p *applyPass) prune(ctx context.Context, desired []*unstructured.Unstructured, keepSecrets bool) {
	want := map[string]bool{}
	for _, o := range desired {
		want[keyOf(o)] = true
	}
	var leaving []Entry
	for _, e := range p.rec.Entries {
		if !want[e.Key()] {
			leaving = append(leaving, e)
		}
	}
	keep := map[string]bool{}
	if retainPolicy(p.w) {
		keep = retainSet(p.w, leaving)
	}
	for _, e := range leaving {
		if keepSecrets && e.Kind == "Secret" && e.Group == "" {
			p.keepEntry(&e)
			continue
		}
		// A pruned object leaves the record at once, its deletion
		// requested; only a failure keeps it for the next pass.
		res, _, err := p.b.release(ctx, p.w, e, keep[e.Key()], p.now)
		if err != nil {
			p.results = append(p.results, entryResult(e, resultFailed, err.Error()))
			p.failed = append(p.failed, e.String()+": "+err.Error())
			p.keepEntry(&e)
			continue
		}
		// An object that was already gone is not reported.
		if res != nil && res.Message != msgGone {
			p.results = append(p.results, *res)
			p.applies++
		}
	}
}

// release lets go of one recorded object: it orphans it when keep is set,
// else deletes it (with its UID as precondition). It returns the result to
// report, and whether the object is still there, its deletion in progress.
// An object already orphaned by this work is reported again without a
// write, so that a pass whose status write failed can be repeated.
func (b *base) release(ctx context.Context, w *fleetv1alpha1.ServiceWork, e Entry, keep bool, now time.Time) (*fleetv1alpha1.ObjectResult, bool, error) {
	live, err := b.getLive(ctx, e.GVK(), e.Namespace, e.Name)
	if meta.IsNoMatchError(err) {
		// The kind's CRD was removed, and with it every object of it.
		live, err = nil, nil
	}
	if err != nil {
		return nil, true, err
	}
	retainedMsg := "kept by deletionPolicy Retain, labelled " + fleetv1alpha1.LabelRetained + "=true"
	switch {
	case e.Shared:
		return nil, false, nil
	case live == nil:
		r := entryResult(e, resultDeleted, msgGone)
		return &r, false, nil
	case live.GetUID() != e.UID:
		r := entryResult(e, resultConflict, "recreated by someone else (new UID); left untouched")
		return &r, false, nil
	case controllerOf(live) != nil:
		ref := controllerOf(live)
		r := entryResult(e, resultConflict, fmt.Sprintf("now controlled by %s %s; left untouched", ref.Kind, ref.Name))
		return &r, false, nil
	case keep && isRetained(live) && live.GetAnnotations()[render.AnnotationRetainedBy] == w.Namespace+"/"+w.Name:
		r := entryResult(e, resultRetained, retainedMsg)
		return &r, false, nil
	case live.GetDeletionTimestamp() != nil:
		r := entryResult(e, resultDeleted, "being deleted")
		return &r, true, nil
	case keep:
		if err := b.orphan(ctx, w, live, now); err != nil {
			return nil, true, err
		}
		r := entryResult(e, resultRetained, retainedMsg)
		return &r, false, nil
	}
	uid := e.UID
	err = b.Member.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	switch {
	case apierrors.IsNotFound(err):
		r := entryResult(e, resultDeleted, msgGone)
		return &r, false, nil
	case apierrors.IsConflict(err):
		r := entryResult(e, resultConflict, "recreated by someone else (new UID); left untouched")
		return &r, false, nil
	case err != nil:
		return nil, true, fmt.Errorf("deleting: %w", err)
	}
	r := entryResult(e, resultDeleted, "being deleted")
	return &r, true, nil
}

// setConflictCondition names the objects berth does not own.
func setConflictCondition(w *fleetv1alpha1.ServiceWork, st *fleetv1alpha1.ServiceWorkStatus, conflicts []string) {
	if len(conflicts) == 0 {
		setCondition(w, st, fleetv1alpha1.ConditionConflict, metav1.ConditionFalse, "NoConflict", "")
		return
	}
	setCondition(w, st, fleetv1alpha1.ConditionConflict, metav1.ConditionTrue, fleetv1alpha1.ReasonObjectConflict,
		"Not owned by this work, left untouched: "+strings.Join(conflicts, ", "))
}

// setAppliedCondition is True when every object was applied.
func setAppliedCondition(w *fleetv1alpha1.ServiceWork, st *fleetv1alpha1.ServiceWorkStatus, conflicts, failed, pending []string) {
	switch {
	case len(failed) > 0:
		setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonApplyFailed, strings.Join(failed, "; "))
	case len(conflicts) > 0:
		setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonObjectConflict, "Conflicting objects: "+strings.Join(conflicts, ", "))
	case len(pending) > 0:
		setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "Applied; waiting for: "+strings.Join(pending, "; "))
	default:
		setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "")
	}
}

// schemaGVK is the group, version and kind of a result.
func schemaGVK(o fleetv1alpha1.ObjectResult) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: o.Group, Version: o.Version, Kind: o.Kind}
}
