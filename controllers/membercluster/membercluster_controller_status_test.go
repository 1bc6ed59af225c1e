package membercluster

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestSetRegisteredCondition(t *testing.T) {
	testCases := []struct {
		name       string
		reg        registration
		wantStatus metav1.ConditionStatus
		wantReason string
		wantInMsg  string
	}{
		{name: "manual accepted", reg: registration{accepted: true}, wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonIdentityIssued},
		{name: "not accepted", reg: registration{}, wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonNotAccepted, wantInMsg: "berthctl accept"},
		{name: "capi provisioned", reg: registration{accepted: true, clusterRef: "ns/c", spokeNote: "spoke installed"},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonClusterProvisioned, wantInMsg: "spoke installed"},
		{name: "capi paused", reg: registration{accepted: true, clusterRef: "ns/c", clusterPaused: true},
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonClusterPaused, wantInMsg: "ns/c is paused"},
		{name: "capi deleting", reg: registration{accepted: true, clusterRef: "ns/c", clusterDeleting: true},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonClusterDeleting, wantInMsg: "being deleted"},
		{name: "capi gone", reg: registration{accepted: true, clusterRef: "ns/c", clusterGone: true},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonClusterDeleting, wantInMsg: "was deleted"},
		{name: "kubeconfig missing", reg: registration{accepted: true, clusterRef: "ns/c", phaseErr: withReason(fleetv1alpha1.ReasonKubeconfigMissing, errors.New("secret gone"))},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonKubeconfigMissing, wantInMsg: "secret gone"},
		{name: "plain error", reg: registration{accepted: true, phaseErr: errors.New("boom")},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonRegistrationFailed, wantInMsg: "boom"},
		{name: "draining wins", reg: registration{accepted: true, clusterRef: "ns/c", clusterGone: true, deleting: true, blocking: []string{"w1", "w2"}},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonDraining, wantInMsg: "2 ServiceWorks (w1, w2)"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := setRegisteredCondition(tc.reg)
			g.Expect(c.Type).To(Equal(fleetv1alpha1.ConditionRegistered))
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tc.wantInMsg))
		})
	}
}

func TestSetAvailableCondition(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(renewedAgo time.Duration, duration *int32) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-a", Name: "spoke"},
			Spec:       coordinationv1.LeaseSpec{LeaseDurationSeconds: duration, RenewTime: &metav1.MicroTime{Time: now.Add(-renewedAgo)}},
		}
	}
	testCases := []struct {
		name            string
		lease           *coordinationv1.Lease
		grace           float64
		wantStatus      metav1.ConditionStatus
		wantReason      string
		wantUnreachable bool
		wantRecheck     time.Duration
	}{
		{name: "no lease", grace: 1.5, wantStatus: metav1.ConditionUnknown, wantReason: fleetv1alpha1.ReasonLeaseMissing},
		{name: "fresh", lease: lease(2*time.Second, ptr.To(int32(10))), grace: 1.5,
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonLeaseFresh, wantRecheck: 13*time.Second + 100*time.Millisecond},
		{name: "older than duration but within grace", lease: lease(14*time.Second, ptr.To(int32(10))), grace: 1.5,
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonLeaseFresh, wantRecheck: time.Second + 100*time.Millisecond},
		{name: "expired", lease: lease(16*time.Second, ptr.To(int32(10))), grace: 1.5,
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonLeaseExpired, wantUnreachable: true},
		{name: "grace factor applies", lease: lease(16*time.Second, ptr.To(int32(10))), grace: 2,
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonLeaseFresh, wantRecheck: 4*time.Second + 100*time.Millisecond},
		{name: "default duration", lease: lease(16*time.Second, nil), grace: 1.5,
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonLeaseExpired, wantUnreachable: true},
		{name: "renewed in the future (clock skew)", lease: lease(-5*time.Second, ptr.To(int32(10))), grace: 1.5,
			wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonLeaseFresh, wantRecheck: 15*time.Second + 100*time.Millisecond},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			a := setAvailableCondition(tc.lease, now, tc.grace)
			g.Expect(a.condition.Type).To(Equal(fleetv1alpha1.ConditionAvailable))
			g.Expect(a.condition.Status).To(Equal(tc.wantStatus))
			g.Expect(a.condition.Reason).To(Equal(tc.wantReason))
			g.Expect(a.unreachable).To(Equal(tc.wantUnreachable))
			g.Expect(a.recheckAfter).To(Equal(tc.wantRecheck))
		})
	}
}

func TestRefreshTime(t *testing.T) {
	g := NewWithT(t)
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.Expect(refreshTime(issued, issued.Add(time.Hour))).To(Equal(issued.Add(40 * time.Minute)))
}

func TestJoinerServiceAccount(t *testing.T) {
	testCases := []struct {
		joinedBy string
		want     string
	}{
		{"system:serviceaccount:berth-system:bootstrap-abc123", "bootstrap-abc123"},
		{"system:serviceaccount:berth-system:berth-hub", ""},
		{"system:serviceaccount:default:bootstrap-abc123", ""},
		{"alice", ""},
		{"", ""},
	}
	for _, tc := range testCases {
		t.Run(tc.joinedBy, func(t *testing.T) {
			NewWithT(t).Expect(joinerServiceAccount(tc.joinedBy)).To(Equal(tc.want))
		})
	}
}

func TestDescribeWorks(t *testing.T) {
	g := NewWithT(t)
	g.Expect(describeWorks([]string{"a"})).To(Equal("ServiceWork a"))
	g.Expect(describeWorks([]string{"a", "b", "c", "d", "e", "f", "g"})).To(Equal("7 ServiceWorks (a, b, c, d, e and 2 more)"))
}
