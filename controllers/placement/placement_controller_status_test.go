package placement

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestSetPlacedCondition(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(then.Add(time.Hour))
	existing := func(status metav1.ConditionStatus) []metav1.Condition {
		return []metav1.Condition{
			{Type: fleetv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "x", LastTransitionTime: then},
			{Type: fleetv1alpha1.ConditionPlaced, Status: status, Reason: "old", LastTransitionTime: then},
		}
	}
	testCases := []struct {
		name     string
		conds    []metav1.Condition
		in       placedCondition
		wantStat metav1.ConditionStatus
		wantTime metav1.Time
	}{
		{
			name: "first time", in: placedCondition{Status: true, Reason: fleetv1alpha1.ReasonScheduled, Message: "m"},
			wantStat: metav1.ConditionTrue, wantTime: now,
		},
		{
			name: "same status keeps the transition time", conds: existing(metav1.ConditionTrue),
			in:       placedCondition{Status: true, Reason: fleetv1alpha1.ReasonFallback, Message: "m"},
			wantStat: metav1.ConditionTrue, wantTime: then,
		},
		{
			name: "status flips", conds: existing(metav1.ConditionTrue),
			in:       placedCondition{Status: false, Reason: fleetv1alpha1.ReasonUnschedulable, Message: "m"},
			wantStat: metav1.ConditionFalse, wantTime: now,
		},
		{
			name: "unplaced stays unplaced", conds: existing(metav1.ConditionFalse),
			in:       placedCondition{Status: false, Reason: fleetv1alpha1.ReasonPolicyNotFound, Message: "m"},
			wantStat: metav1.ConditionFalse, wantTime: then,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := setPlacedCondition(tc.conds, tc.in, 7, now)
			g.Expect(c.Type).To(Equal(fleetv1alpha1.ConditionPlaced))
			g.Expect(c.Status).To(Equal(tc.wantStat))
			g.Expect(c.Reason).To(Equal(tc.in.Reason))
			g.Expect(c.Message).To(Equal(tc.in.Message))
			g.Expect(c.ObservedGeneration).To(Equal(int64(7)))
			g.Expect(c.LastTransitionTime).To(Equal(tc.wantTime))
		})
	}
}

func TestTruncate(t *testing.T) {
	g := NewWithT(t)
	g.Expect(truncate("short", 10)).To(Equal("short"))
	g.Expect(truncate("0123456789abc", 10)).To(Equal("0123456..."))
}
