package placement

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	berthplacement "github.com/berth-io/berth/placement"
)

// placedCondition is what the Placed condition should say.
type placedCondition struct {
	Status  bool
	Reason  string
	Message string
}

// currentPlaced reads the service's Placed condition.
func currentPlaced(ms *fleetv1alpha1.ManagedService) placedCondition {
	c := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced)
	if c == nil {
		return placedCondition{}
	}
	return placedCondition{Status: c.Status == metav1.ConditionTrue, Reason: c.Reason, Message: c.Message}
}

// setPlacedCondition returns the Placed condition to write, given the
// current conditions: lastTransitionTime moves only when the status does.
func setPlacedCondition(conds []metav1.Condition, p placedCondition, generation int64, now metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type:               fleetv1alpha1.ConditionPlaced,
		Status:             metav1.ConditionFalse,
		Reason:             p.Reason,
		Message:            truncate(p.Message, 32768),
		ObservedGeneration: generation,
		LastTransitionTime: now,
	}
	if p.Status {
		c.Status = metav1.ConditionTrue
	}
	if old := meta.FindStatusCondition(conds, fleetv1alpha1.ConditionPlaced); old != nil && old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	return c
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// applyStatus writes status.placement and the Placed condition with
// server-side apply, owning nothing else. It reports whether anything
// changed; nothing is written when nothing did.
func (r *Reconciler) applyStatus(ctx context.Context, s *scope) (bool, error) {
	ms := s.ms
	cond := setPlacedCondition(ms.Status.Conditions, s.placed, ms.Generation, metav1.NewTime(r.Clock.Now()))
	old := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced)
	if old != nil && *old == cond && reflect.DeepEqual(ms.Status.Placement, s.placement) {
		return false, nil
	}
	placement, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&s.placement)
	if err != nil {
		return false, fmt.Errorf("converting status.placement: %w", err)
	}
	condition, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&cond)
	if err != nil {
		return false, fmt.Errorf("converting the Placed condition: %w", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"status": map[string]any{
			"placement":  placement,
			"conditions": []any{condition},
		},
	}}
	u.SetGroupVersionKind(fleetv1alpha1.GroupVersion.WithKind("ManagedService"))
	u.SetNamespace(ms.Namespace)
	u.SetName(ms.Name)
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("applying status of %s/%s: %w", ms.Namespace, ms.Name, err)
	}
	return true, nil
}

// recordEvents tells the user what changed.
func (r *Reconciler) recordEvents(s *scope) {
	before := currentPlaced(s.ms)
	prev := s.ms.Status.Placement
	now := s.placement
	d := s.decision
	if d != nil && d.Restored && d.Outcome != berthplacement.OutcomePlaced {
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, "PlacementRestored", "Place",
			"status.placement was lost; restored the decision %s from the provider ServiceWork", now.Cluster)
	}
	switch {
	case d == nil:
		// A policy problem on an unplaced service.
		if before.Reason != s.placed.Reason || before.Message != s.placed.Message {
			r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, s.placed.Reason, "Place", "%s", s.placed.Message)
		}
	case d.Outcome == berthplacement.OutcomePlaced && now.Cluster != prev.Cluster:
		reason := fleetv1alpha1.ReasonScheduled
		if s.placed.Reason == fleetv1alpha1.ReasonFallback {
			reason = fleetv1alpha1.ReasonFallback
		}
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, reason, "Place", "%s", s.placed.Message)
	case d.Outcome == berthplacement.OutcomeUnschedulable:
		if before.Reason != s.placed.Reason || before.Message != s.placed.Message {
			r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, s.placed.Reason, "Place", "%s", s.placed.Message)
		}
	case d.Outcome == berthplacement.OutcomeClusterGone:
		if before.Message != s.placed.Message {
			r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, berthplacement.ReasonClusterGone, "Place", "%s", s.placed.Message)
		}
	}
	if now.BetterCandidate != "" && now.BetterCandidate != prev.BetterCandidate {
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, "BetterCandidate", "Place",
			"%s scores higher than %s; set the %s annotation to move the service",
			now.BetterCandidate, now.Cluster, fleetv1alpha1.AnnotationReplace)
	}
}
