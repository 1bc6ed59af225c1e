package membercluster

import (
	"errors"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// DefaultLeaseDuration is assumed when a Lease has no leaseDurationSeconds.
const DefaultLeaseDuration = 10 * time.Second

// reasonError is a phase error that carries the Registered reason it causes.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func withReason(reason string, err error) error { return &reasonError{reason: reason, err: err} }

// registration is what the Registered condition is computed from.
type registration struct {
	accepted bool
	// clusterRef is "<namespace>/<name>" of the CAPI Cluster, "" for a
	// manual member.
	clusterRef      string
	clusterGone     bool
	clusterDeleting bool
	clusterPaused   bool
	// deleting is true while the member waits for blocking ServiceWorks.
	deleting bool
	blocking []string
	// phaseErr is the first error of the registration phases.
	phaseErr error
	// spokeNote says how the spoke was installed (CAPI members only).
	spokeNote string
}

// setRegisteredCondition returns the Registered condition for r.
func setRegisteredCondition(r registration) metav1.Condition {
	c := metav1.Condition{Type: fleetv1alpha1.ConditionRegistered}
	switch {
	case r.deleting:
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonDraining
		c.Message = fmt.Sprintf("Member is being deleted; waiting for %s to be removed", describeWorks(r.blocking))
	case !r.accepted:
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonNotAccepted
		c.Message = "Member joined manually and waits for `berthctl accept`"
	case r.clusterRef != "" && (r.clusterGone || r.clusterDeleting):
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonClusterDeleting
		c.Message = fmt.Sprintf("Cluster %s is being deleted", r.clusterRef)
		if r.clusterGone {
			c.Message = fmt.Sprintf("Cluster %s was deleted", r.clusterRef)
		}
	case r.phaseErr != nil:
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonRegistrationFailed
		var re *reasonError
		if errors.As(r.phaseErr, &re) {
			c.Reason = re.reason
		}
		c.Message = r.phaseErr.Error()
	case r.clusterRef != "" && r.clusterPaused:
		c.Status, c.Reason = metav1.ConditionTrue, fleetv1alpha1.ReasonClusterPaused
		c.Message = fmt.Sprintf("Hub namespace, identity and credentials exist; Cluster %s is paused, so berth does not change the member cluster until it is resumed", r.clusterRef)
	case r.clusterRef != "":
		c.Status, c.Reason = metav1.ConditionTrue, fleetv1alpha1.ReasonClusterProvisioned
		c.Message = "Hub namespace, identity and credentials exist; " + r.spokeNote
	default:
		c.Status, c.Reason = metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued
		c.Message = "Hub namespace, identity and credentials exist"
	}
	c.Message = truncate(c.Message, 1024)
	return c
}

func describeWorks(names []string) string {
	const shown = 5
	switch len(names) {
	case 0:
		return "no ServiceWork"
	case 1:
		return "ServiceWork " + names[0]
	}
	list := names
	more := ""
	if len(list) > shown {
		more = fmt.Sprintf(" and %d more", len(list)-shown)
		list = list[:shown]
	}
	return fmt.Sprintf("%d ServiceWorks (%s%s)", len(names), strings.Join(list, ", "), more)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// availability is the verdict on a member's Lease.
type availability struct {
	condition metav1.Condition
	// unreachable asks for the NoPlace taint.
	unreachable bool
	// recheckAfter is when the Lease becomes expired if not renewed; zero
	// when only a Lease event can change the verdict.
	recheckAfter time.Duration
	// age of the Lease; negative when there is none.
	age time.Duration
}

// leaseRenewTime is the last time the holder wrote the Lease.
func leaseRenewTime(l *coordinationv1.Lease) time.Time {
	switch {
	case l.Spec.RenewTime != nil:
		return l.Spec.RenewTime.Time
	case l.Spec.AcquireTime != nil:
		return l.Spec.AcquireTime.Time
	default:
		return l.CreationTimestamp.Time
	}
}

func leaseDuration(l *coordinationv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds <= 0 {
		return DefaultLeaseDuration
	}
	return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
}

// setAvailableCondition judges a member's Lease at now. A Lease is expired
// when now - renewTime > leaseDuration × grace.
func setAvailableCondition(lease *coordinationv1.Lease, now time.Time, grace float64) availability {
	c := metav1.Condition{Type: fleetv1alpha1.ConditionAvailable}
	if lease == nil {
		c.Status, c.Reason = metav1.ConditionUnknown, fleetv1alpha1.ReasonLeaseMissing
		c.Message = "The spoke has not created its Lease yet"
		return availability{condition: c, age: -1}
	}
	renew := leaseRenewTime(lease)
	duration := leaseDuration(lease)
	window := time.Duration(float64(duration) * grace)
	age := now.Sub(renew)
	if age < 0 {
		age = 0
	}
	if age > window {
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonLeaseExpired
		c.Message = fmt.Sprintf("Lease %s/%s was last renewed at %s, longer ago than its duration %s × grace factor %g",
			lease.Namespace, lease.Name, renew.UTC().Format(time.RFC3339), duration, grace)
		return availability{condition: c, unreachable: true, age: age}
	}
	c.Status, c.Reason = metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh
	c.Message = fmt.Sprintf("Lease %s/%s is renewed within its duration %s × grace factor %g", lease.Namespace, lease.Name, duration, grace)
	// Check again right after the Lease would expire.
	return availability{condition: c, recheckAfter: window - age + 100*time.Millisecond, age: age}
}

// unreachableTaint returns the member's Unreachable taint, or nil.
func unreachableTaint(m *fleetv1alpha1.MemberCluster) *fleetv1alpha1.MemberTaint {
	for i := range m.Spec.Taints {
		t := &m.Spec.Taints[i]
		if t.Key == fleetv1alpha1.TaintKeyUnreachable && t.Effect == fleetv1alpha1.TaintNoPlace && t.Reason == fleetv1alpha1.ReasonUnreachable {
			return t
		}
	}
	return nil
}

// conditionChanged reports whether want differs from the member's current
// condition of the same type in anything but timestamps.
func conditionChanged(current []metav1.Condition, want metav1.Condition) bool {
	for _, c := range current {
		if c.Type == want.Type {
			return c.Status != want.Status || c.Reason != want.Reason || c.Message != want.Message
		}
	}
	return true
}
