package propagation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/ssa"
)

// summary is the part of ManagedService status computed from the works.
type summary struct {
	Propagated    metav1.Condition
	Ready         metav1.Condition
	Endpoint      *fleetv1alpha1.Endpoint
	ReadyReplicas int32
}

// summarize computes status from the desired works, the works that serve
// the consumers (the bound provider's and the consumer's) and the live
// ones. Propagated covers every desired work, a move target included; Ready
// only the serving ones, so a move in progress does not make a serving
// service unready.
func summarize(ms *fleetv1alpha1.ManagedService, desired []*fleetv1alpha1.ServiceWork, provider, consumer *fleetv1alpha1.ServiceWork, live []fleetv1alpha1.ServiceWork) summary {
	s := summary{Propagated: setPropagatedCondition(ms, desired, live)}
	var serving []*fleetv1alpha1.ServiceWork
	for _, w := range []*fleetv1alpha1.ServiceWork{provider, consumer} {
		if w != nil && !slices.ContainsFunc(serving, func(o *fleetv1alpha1.ServiceWork) bool { return o.Namespace == w.Namespace }) {
			serving = append(serving, w)
		}
	}
	if provider != nil {
		s.ReadyReplicas = provider.Status.ReadyReplicas
	}
	if consumer != nil && consumer.Status.Endpoint != nil {
		s.Endpoint = consumer.Status.Endpoint.DeepCopy()
	}
	s.Ready = setReadyCondition(setPropagatedCondition(ms, serving, live), provider, consumer)
	return s
}

// appliedAt reports whether w was applied by its spoke at the current
// generation of both the work and the ManagedService.
func appliedAt(ms *fleetv1alpha1.ManagedService, w *fleetv1alpha1.ServiceWork) bool {
	return w.Spec.ServiceRef.Generation == ms.Generation &&
		w.Status.ObservedGeneration == w.Generation &&
		meta.IsStatusConditionTrue(w.Status.Conditions, fleetv1alpha1.ConditionApplied)
}

// setPropagatedCondition is True when every desired work was applied at the
// current generation.
func setPropagatedCondition(ms *fleetv1alpha1.ManagedService, desired []*fleetv1alpha1.ServiceWork, live []fleetv1alpha1.ServiceWork) metav1.Condition {
	cond := metav1.Condition{Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionFalse}
	if len(desired) == 0 {
		cond.Reason = fleetv1alpha1.ReasonWorkPending
		cond.Message = "The service is not placed yet"
		return cond
	}
	var pending, failed, conflicts []string
	for _, d := range desired {
		name := d.Namespace + "/" + d.Name
		w := findWork(live, d)
		switch {
		case w == nil:
			pending = append(pending, name+" (not written yet)")
		case meta.IsStatusConditionTrue(w.Status.Conditions, fleetv1alpha1.ConditionConflict):
			c := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionConflict)
			conflicts = append(conflicts, fmt.Sprintf("%s: %s", name, c.Message))
		case appliedAt(ms, w):
		case isFailed(w):
			c := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionApplied)
			failed = append(failed, fmt.Sprintf("%s: %s", name, c.Message))
		default:
			pending = append(pending, name)
		}
	}
	switch {
	case len(conflicts) > 0:
		cond.Reason = fleetv1alpha1.ReasonObjectConflict
		cond.Message = strings.Join(conflicts, "; ")
	case len(failed) > 0:
		cond.Reason = fleetv1alpha1.ReasonApplyFailed
		cond.Message = strings.Join(failed, "; ")
	case len(pending) > 0:
		cond.Reason = fleetv1alpha1.ReasonWorkPending
		cond.Message = "Waiting for the spoke to apply " + strings.Join(pending, ", ")
	default:
		cond.Status = metav1.ConditionTrue
		cond.Reason = fleetv1alpha1.ReasonWorkApplied
		cond.Message = fmt.Sprintf("%d ServiceWork(s) applied at generation %d", len(desired), ms.Generation)
	}
	return cond
}

func isFailed(w *fleetv1alpha1.ServiceWork) bool {
	c := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionApplied)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == fleetv1alpha1.ReasonApplyFailed
}

// setReadyCondition is True when the works are propagated, the engine
// reports ready and the consumer binding exists.
func setReadyCondition(propagated metav1.Condition, provider, consumer *fleetv1alpha1.ServiceWork) metav1.Condition {
	cond := metav1.Condition{Type: fleetv1alpha1.ConditionReady, Status: metav1.ConditionFalse}
	switch {
	case propagated.Status != metav1.ConditionTrue:
		cond.Reason = propagated.Reason
		cond.Message = "Not propagated: " + propagated.Message
	case provider == nil || !meta.IsStatusConditionTrue(provider.Status.Conditions, fleetv1alpha1.ConditionAvailable):
		cond.Reason = fleetv1alpha1.ReasonEngineNotReady
		cond.Message = "The engine does not report ready yet"
		if provider != nil {
			if c := meta.FindStatusCondition(provider.Status.Conditions, fleetv1alpha1.ConditionAvailable); c != nil && c.Message != "" {
				cond.Message = c.Message
			}
		}
	case consumer == nil || consumer.Status.Endpoint == nil:
		cond.Reason = fleetv1alpha1.ReasonBindingMissing
		cond.Message = "The consumer binding does not exist yet"
	default:
		cond.Status = metav1.ConditionTrue
		cond.Reason = fleetv1alpha1.ReasonEngineReady
		cond.Message = fmt.Sprintf("%d replica(s) ready; apps use %s:%d", provider.Status.ReadyReplicas, consumer.Status.Endpoint.Host, consumer.Status.Endpoint.Port)
	}
	return cond
}

// ownedStatus is the part of ManagedService status this controller owns.
type ownedStatus struct {
	ObservedGeneration int64
	// Conditions: Propagated, Ready and, once a move happened, Moving.
	Conditions    []metav1.Condition
	Endpoint      *fleetv1alpha1.Endpoint
	ReadyReplicas int32
}

// currentOwned reads the owned part of ms's status.
func currentOwned(ms *fleetv1alpha1.ManagedService) ownedStatus {
	o := ownedStatus{
		ObservedGeneration: ms.Status.ObservedGeneration,
		Endpoint:           ms.Status.Endpoint.DeepCopy(),
		ReadyReplicas:      ms.Status.ReadyReplicas,
	}
	for _, t := range []string{fleetv1alpha1.ConditionPropagated, fleetv1alpha1.ConditionReady, fleetv1alpha1.ConditionMoving} {
		if c := meta.FindStatusCondition(ms.Status.Conditions, t); c != nil {
			o.Conditions = append(o.Conditions, *c)
		}
	}
	return o
}

// setCondition replaces or adds c.
func (o *ownedStatus) setCondition(c metav1.Condition) {
	for i := range o.Conditions {
		if o.Conditions[i].Type == c.Type {
			o.Conditions[i] = c
			return
		}
	}
	o.Conditions = append(o.Conditions, c)
}

// applyStatus writes what the works say, when it differs from the status.
func (r *Reconciler) applyStatus(ctx context.Context, ms *fleetv1alpha1.ManagedService, p *plan, works []fleetv1alpha1.ServiceWork) error {
	desired := p.desired
	if p.decided == "" {
		// Without a decision, report on the works as they are.
		for i := range works {
			if works[i].DeletionTimestamp.IsZero() {
				desired = append(desired, &works[i])
			}
		}
	}
	s := summarize(ms, desired, p.binding.Providers[p.bound], p.binding.Consumer, works)
	want := currentOwned(ms)
	want.setCondition(s.Propagated)
	want.setCondition(s.Ready)
	prevMoving := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionMoving)
	if p.moving != nil {
		want.setCondition(*p.moving)
	}
	if s.Propagated.Status == metav1.ConditionTrue {
		want.ObservedGeneration = ms.Generation
	}
	want.Endpoint = s.Endpoint
	want.ReadyReplicas = s.ReadyReplicas
	if err := r.writeStatus(ctx, ms, want); err != nil {
		return err
	}
	if wasReady := meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionReady); wasReady != (s.Ready.Status == metav1.ConditionTrue) {
		r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, s.Ready.Reason, "Propagate", "Ready=%s: %s", s.Ready.Status, s.Ready.Message)
	}
	r.recordMoveEvents(ms, prevMoving, p.moving, p)
	return nil
}

// writeStatus applies want with server-side apply when it differs from the
// status in anything but lastTransitionTime, which moves only when a
// condition's status does.
func (r *Reconciler) writeStatus(ctx context.Context, ms *fleetv1alpha1.ManagedService, want ownedStatus) error {
	now := metav1.NewTime(time.Now())
	changed := want.ObservedGeneration != ms.Status.ObservedGeneration ||
		want.ReadyReplicas != ms.Status.ReadyReplicas ||
		!equality.Semantic.DeepEqual(want.Endpoint, ms.Status.Endpoint)
	conds := make([]any, 0, len(want.Conditions))
	for _, c := range want.Conditions {
		c.ObservedGeneration = ms.Generation
		c.LastTransitionTime = now
		if old := meta.FindStatusCondition(ms.Status.Conditions, c.Type); old != nil {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			changed = changed || old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message ||
				old.ObservedGeneration != c.ObservedGeneration
		} else {
			changed = true
		}
		m, err := ssa.ToMap(&c)
		if err != nil {
			return err
		}
		conds = append(conds, m)
	}
	if !changed {
		return nil
	}
	status := map[string]any{
		"observedGeneration": want.ObservedGeneration,
		"readyReplicas":      int64(want.ReadyReplicas),
		"conditions":         conds,
	}
	if want.Endpoint != nil {
		ep, err := ssa.ToMap(want.Endpoint)
		if err != nil {
			return err
		}
		status["endpoint"] = ep
	}
	gvk := fleetv1alpha1.GroupVersion.WithKind("ManagedService")
	return ssa.ApplyStatus(ctx, r.Client, gvk, client.ObjectKeyFromObject(ms), status, FieldOwner)
}
