package propagation

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestSetMovingCondition(t *testing.T) {
	cond := func(status metav1.ConditionStatus, reason string) *metav1.Condition {
		return &metav1.Condition{Type: fleetv1alpha1.ConditionMoving, Status: status, Reason: reason}
	}
	testCases := []struct {
		name          string
		prev          *metav1.Condition
		s             moveSummary
		wantNil       bool
		wantStatus    metav1.ConditionStatus
		wantReason    string
		wantMessage   []string
		wantRemoveAck bool
	}{
		{name: "never moved", s: moveSummary{Bound: "a"}, wantNil: true},
		{name: "a pre-acknowledgement of another cluster is kept", s: moveSummary{Bound: "a", Ack: "b"}, wantNil: true},
		{name: "an acknowledgement of the provider in use is spent, and invents no move", s: moveSummary{Bound: "a", Ack: "a"}, wantNil: true, wantRemoveAck: true},
		{name: "target not ready",
			s:          moveSummary{Bound: "a", Move: &moveState{From: "a", To: "b", TargetWait: "ServiceWork x is not Available"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveWaitingForTarget,
			wantMessage: []string{"Moving from a to b", "ServiceWork x is not Available", "Consumers keep using a", "fleet.berth.io/accept-move: b"}},
		{name: "target not ready, acknowledged",
			s:          moveSummary{Bound: "a", Ack: "b", Move: &moveState{From: "a", To: "b", TargetWait: "not yet", Ack: "b"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveWaitingForTarget,
			wantMessage: []string{"the move is acknowledged"}},
		{name: "target ready, no acknowledgement",
			s:          moveSummary{Bound: "a", Move: &moveState{From: "a", To: "b"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveWaitingForAcknowledgement,
			wantMessage: []string{"Moving from a to b", "Consumers keep using a until the annotation fleet.berth.io/accept-move: b is set", "accepting an empty database on b"}},
		{name: "a stale acknowledgement is ignored and named",
			s:          moveSummary{Bound: "a", Ack: "c", Move: &moveState{From: "a", To: "b", Ack: "c"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveWaitingForAcknowledgement,
			wantMessage: []string{`the annotation fleet.berth.io/accept-move is "c", which does not name the target b, and is ignored`}},
		{name: "switched this reconcile",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement),
			s:          moveSummary{Bound: "b", Ack: "b", Switched: true, Leftovers: []string{"a"}, Move: &moveState{From: "a", To: "b", Ack: "b"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider,
			wantMessage: []string{"Consumers use the new provider on b", "removing the old provider on a once the consumer's spoke applied the switch"}},
		{name: "switched away from the consumer's cluster: the switch drops the old provider's role",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement),
			s:          moveSummary{Bound: "b", Ack: "b", Switched: true, Move: &moveState{From: "a", To: "b", Ack: "b"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider,
			wantMessage: []string{"waiting for the consumer's spoke to apply the switch, which removes the old provider there"}},
		{name: "switched away from the consumer's cluster, not applied yet",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveRemovingOldProvider),
			s:          moveSummary{Bound: "b", Ack: "b"},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider},
		{name: "old provider being removed",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveRemovingOldProvider),
			s:          moveSummary{Bound: "b", Ack: "b", Settled: true, Leftovers: []string{"a"}, DeletionPolicy: fleetv1alpha1.DeletionPolicyRetain},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider,
			wantMessage: []string{"waiting for its spoke to remove it (deletionPolicy Retain)"}},
		{name: "status lost after the switch: the acknowledgement tells",
			s:          moveSummary{Bound: "b", Ack: "b", Settled: true, Leftovers: []string{"a"}},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider},
		{name: "switched, the condition read before it was written: the acknowledgement tells",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement),
			s:          moveSummary{Bound: "b", Ack: "b"},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonMoveRemovingOldProvider},
		{name: "switched and settled, the condition read stale: completed, not cancelled",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement),
			s:          moveSummary{Bound: "b", Ack: "b", Settled: true},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMoveCompleted, wantRemoveAck: true},
		{name: "completed",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveRemovingOldProvider),
			s:          moveSummary{Bound: "b", Ack: "b", Settled: true},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMoveCompleted, wantRemoveAck: true,
			wantMessage: []string{"Consumers use the provider on b"}},
		{name: "completed stays",
			prev:    cond(metav1.ConditionFalse, fleetv1alpha1.ReasonMoveCompleted),
			s:       moveSummary{Bound: "b", Settled: true},
			wantNil: false, wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMoveCompleted},
		{name: "cancelled: the placement went back",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForAcknowledgement),
			s:          moveSummary{Bound: "a", Ack: "b", Settled: true, Leftovers: []string{"b"}},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMoveCancelled, wantRemoveAck: true,
			wantMessage: []string{"The move to b was cancelled", "consumers keep using a"}},
		{name: "cancelled, target already gone",
			prev:       cond(metav1.ConditionTrue, fleetv1alpha1.ReasonMoveWaitingForTarget),
			s:          moveSummary{Bound: "a"},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMoveCancelled},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, removeAck := setMovingCondition(tc.prev, tc.s)
			g.Expect(removeAck).To(Equal(tc.wantRemoveAck))
			if tc.wantNil {
				g.Expect(c).To(Equal(tc.prev))
				return
			}
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Type).To(Equal(fleetv1alpha1.ConditionMoving))
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
			for _, m := range tc.wantMessage {
				g.Expect(c.Message).To(ContainSubstring(m))
			}
		})
	}
}

func TestMoveCanSwitch(t *testing.T) {
	g := NewWithT(t)
	g.Expect((&moveState{To: "b", Ack: "b"}).canSwitch()).To(BeTrue())
	g.Expect((&moveState{To: "b", Ack: "b", TargetWait: "not Available"}).canSwitch()).To(BeFalse(), "the target must be ready")
	g.Expect((&moveState{To: "b"}).canSwitch()).To(BeFalse(), "the move must be acknowledged")
	g.Expect((&moveState{To: "b", Ack: "c"}).canSwitch()).To(BeFalse(), "an acknowledgement of another cluster does not count")
	g.Expect((&moveState{To: "b", Ack: " b"}).canSwitch()).To(BeFalse(), "the value must be exactly the target")
}
