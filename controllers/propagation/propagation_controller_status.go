package propagation

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// summary is the part of ManagedService status this controller owns.
type summary struct {
	Propagated    metav1.Condition
	Ready         metav1.Condition
	Endpoint      *fleetv1alpha1.Endpoint
	ReadyReplicas int32
}

// summarize computes status from the desired works and the live ones.
func summarize(ms *fleetv1alpha1.ManagedService, desired []*fleetv1alpha1.ServiceWork, live []fleetv1alpha1.ServiceWork) summary {
	s := summary{
		Propagated: setPropagatedCondition(ms, desired, live),
	}
	var provider, consumer *fleetv1alpha1.ServiceWork
	for _, d := range desired {
		w := findWork(live, d)
		if w == nil {
			continue
		}
		if slices.Contains(w.Spec.Roles, fleetv1alpha1.RoleProvider) {
			provider = w
		}
		if slices.Contains(w.Spec.Roles, fleetv1alpha1.RoleConsumer) {
			consumer = w
		}
	}
	if provider != nil {
		s.ReadyReplicas = provider.Status.ReadyReplicas
	}
	if consumer != nil && consumer.Status.Endpoint != nil {
		s.Endpoint = consumer.Status.Endpoint.DeepCopy()
	}
	s.Ready = setReadyCondition(s.Propagated, provider, consumer)
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
