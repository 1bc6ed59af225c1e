package propagation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// moveState is a move that has not switched the consumers yet.
type moveState struct {
	// From is the provider the consumers use; To the decided cluster.
	From, To string
	// TargetWait says what the new provider lacks; "" when it can take
	// the consumers over.
	TargetWait string
	// Ack is the value of the accept-move annotation.
	Ack string
}

// acknowledged reports whether the accept-move annotation names the target.
func (m *moveState) acknowledged() bool { return m.Ack == m.To }

// canSwitch reports whether the consumers may switch to the target now.
func (m *moveState) canSwitch() bool { return m.TargetWait == "" && m.acknowledged() }

// moveSummary is what the Moving condition is computed from.
type moveSummary struct {
	// Move is the move that waits, as found at the start of the reconcile;
	// nil when the consumers use the decided cluster.
	Move *moveState
	// Switched is true when this reconcile switches the consumers.
	Switched bool
	// Bound is the provider the consumers use after this reconcile.
	Bound string
	// Leftovers are the other members that still carry a provider work.
	Leftovers []string
	// Settled is true when the consumer's spoke applied the binding to
	// Bound.
	Settled bool
	// Ack is the value of the accept-move annotation.
	Ack string
	// DeletionPolicy of the service.
	DeletionPolicy fleetv1alpha1.DeletionPolicy
}

// setMovingCondition returns the Moving condition (nil: none, keep the
// current one) and whether the accept-move annotation is spent and must be
// removed. prev is the current condition.
func setMovingCondition(prev *metav1.Condition, s moveSummary) (*metav1.Condition, bool) {
	c := metav1.Condition{Type: fleetv1alpha1.ConditionMoving}
	ann := fleetv1alpha1.AnnotationAcceptMove
	prevTrue := prev != nil && prev.Status == metav1.ConditionTrue
	wasRemoving := prevTrue && prev.Reason == fleetv1alpha1.ReasonMoveRemovingOldProvider
	leftovers := strings.Join(s.Leftovers, ", ")
	if m := s.Move; m != nil && !s.Switched {
		c.Status = metav1.ConditionTrue
		if m.TargetWait != "" {
			c.Reason = fleetv1alpha1.ReasonMoveWaitingForTarget
			c.Message = fmt.Sprintf("Moving from %s to %s: waiting for the new provider on %s (%s). Consumers keep using %s until the new provider is available and the annotation %s: %s accepts an empty database on %s",
				m.From, m.To, m.To, m.TargetWait, m.From, ann, m.To, m.To)
			if m.acknowledged() {
				c.Message += "; the move is acknowledged"
			}
		} else {
			c.Reason = fleetv1alpha1.ReasonMoveWaitingForAcknowledgement
			c.Message = fmt.Sprintf("Moving from %s to %s: the new provider on %s is available and empty. Consumers keep using %s until the annotation %s: %s is set on this ManagedService, accepting an empty database on %s",
				m.From, m.To, m.To, m.From, ann, m.To, m.To)
		}
		if m.Ack != "" && !m.acknowledged() {
			c.Message += fmt.Sprintf("; the annotation %s is %q, which does not name the target %s, and is ignored", ann, m.Ack, m.To)
		}
		return &c, false
	}
	// The consumers use the decided cluster. They got there by an
	// acknowledged move when this reconcile switched them, when the last
	// condition said so, or when the acknowledgement names where they are
	// now (the condition may have been lost, or read before it was written).
	movedHere := s.Switched || wasRemoving ||
		(s.Ack != "" && s.Ack == s.Bound && (len(s.Leftovers) > 0 || prevTrue))
	switch {
	case movedHere && (s.Switched || len(s.Leftovers) > 0 || !s.Settled):
		c.Status = metav1.ConditionTrue
		c.Reason = fleetv1alpha1.ReasonMoveRemovingOldProvider
		switch {
		case len(s.Leftovers) == 0:
			// The old provider ran in the consumer's cluster: the switch
			// itself drops its provider role there.
			c.Message = fmt.Sprintf("Consumers use the new provider on %s; waiting for the consumer's spoke to apply the switch, which removes the old provider there (deletionPolicy %s)",
				s.Bound, s.DeletionPolicy)
		case !s.Settled:
			c.Message = fmt.Sprintf("Consumers use the new provider on %s; removing the old provider on %s once the consumer's spoke applied the switch",
				s.Bound, leftovers)
		default:
			c.Message = fmt.Sprintf("Consumers use the new provider on %s; removing the old provider on %s: waiting for its spoke to remove it (deletionPolicy %s)",
				s.Bound, leftovers, s.DeletionPolicy)
		}
		return &c, false
	case len(s.Leftovers) > 0:
		c.Status = metav1.ConditionFalse
		c.Reason = fleetv1alpha1.ReasonMoveCancelled
		c.Message = fmt.Sprintf("The move to %s was cancelled: consumers keep using %s, and the unused provider on %s is removed", leftovers, s.Bound, leftovers)
		return &c, s.Ack != ""
	case prevTrue:
		c.Status = metav1.ConditionFalse
		if movedHere {
			c.Reason = fleetv1alpha1.ReasonMoveCompleted
			c.Message = fmt.Sprintf("Consumers use the provider on %s; the old provider's ServiceWork is gone", s.Bound)
		} else {
			c.Reason = fleetv1alpha1.ReasonMoveCancelled
			c.Message = fmt.Sprintf("The move was cancelled: consumers keep using %s", s.Bound)
		}
		return &c, s.Ack != ""
	}
	// No move under way: an acknowledgement of the provider in use is spent;
	// one naming another cluster may acknowledge a coming move.
	return prev, s.Ack != "" && s.Ack == s.Bound
}

// recordMoveEvents tells the user what the move did, once per change of the
// Moving condition.
func (r *Reconciler) recordMoveEvents(ms *fleetv1alpha1.ManagedService, prev, next *metav1.Condition, p *plan) {
	if next == nil || (prev != nil && prev.Status == next.Status && prev.Reason == next.Reason && prev.Message == next.Message) {
		return
	}
	ann := fleetv1alpha1.AnnotationAcceptMove
	m := p.move
	switch next.Reason {
	case fleetv1alpha1.ReasonMoveWaitingForTarget:
		if prev == nil || prev.Status != metav1.ConditionTrue {
			r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, "MoveStarted", "Move",
				"Moving from %s to %s: consumers keep using %s until %s is available and the annotation %s: %s accepts an empty database on %s",
				m.From, m.To, m.From, m.To, ann, m.To, m.To)
		}
	case fleetv1alpha1.ReasonMoveWaitingForAcknowledgement:
		if prev == nil || prev.Reason != next.Reason {
			r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, "MoveTargetReady", "Move",
				"The new provider on %s is available; set the annotation %s: %s to switch the consumers from %s, accepting an empty database on %s",
				m.To, ann, m.To, m.From, m.To)
		}
	case fleetv1alpha1.ReasonMoveRemovingOldProvider:
		if p.switched {
			r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, "MoveSwitched", "Move",
				"Consumers switched from %s to %s; the old provider on %s is removed once the consumer's spoke applied the switch", m.From, m.To, m.From)
		}
	case fleetv1alpha1.ReasonMoveCompleted, fleetv1alpha1.ReasonMoveCancelled:
		if prev == nil || prev.Reason != next.Reason {
			r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, next.Reason, "Move", "%s", next.Message)
		}
	}
	if m != nil && !p.switched && m.Ack != "" && !m.acknowledged() {
		r.Recorder.Eventf(ms, nil, corev1.EventTypeWarning, "MoveAcknowledgementIgnored", "Move",
			"The annotation %s is %q but the move goes to %s; it is ignored. Set it to %s to accept an empty database on %s",
			ann, m.Ack, m.To, m.To, m.To)
	}
}
