package placement

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	berthplacement "github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
)

// reconcilePolicy resolves the service's PlacementPolicy. A policyRef that
// names no policy, or a policy that does not compile, leaves an unplaced
// service Placed=False; a placed service keeps its placement and condition.
func (r *Reconciler) reconcilePolicy(ctx context.Context, s *scope) (ctrl.Result, error) {
	ref := s.ms.Spec.Placement.PolicyRef
	if ref == nil {
		pol, err := r.defaultPolicy(ctx, s.ms)
		if err != nil {
			return ctrl.Result{}, err
		}
		s.policy = pol
		return ctrl.Result{}, nil
	}
	pp := &fleetv1alpha1.PlacementPolicy{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: ref.Name}, pp); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting PlacementPolicy %s: %w", ref.Name, err)
		}
		r.policyFailed(s, fleetv1alpha1.ReasonPolicyNotFound, fmt.Sprintf("PlacementPolicy %q not found", ref.Name))
		return ctrl.Result{}, nil
	}
	pol, err := r.compile(pp)
	if err != nil {
		r.policyFailed(s, fleetv1alpha1.ReasonPolicyInvalid,
			fmt.Sprintf("PlacementPolicy %q is invalid: %s", ref.Name, strings.ReplaceAll(err.Error(), "\n", "; ")))
		return ctrl.Result{}, nil
	}
	s.policy = pol
	return ctrl.Result{}, nil
}

// policyFailed records a policy problem. A placed service is sticky: it
// keeps its placement and Placed condition, and the problem is only an
// Event until the policy is fixed.
func (r *Reconciler) policyFailed(s *scope, reason, message string) {
	s.done = true
	if s.ms.Status.Placement.Cluster != "" {
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, reason, "Place", "%s; the service stays on %s", message, s.ms.Status.Placement.Cluster)
		s.placed = currentPlaced(s.ms)
		return
	}
	if rec := s.recorded; rec != nil {
		// Status was lost, the binding was not: keep the recorded decision.
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, reason, "Place", "%s; the service stays on %s", message, rec.Cluster)
		s.placement = *rec.DeepCopy()
		s.placed = placedCondition{Status: true, Reason: fleetv1alpha1.ReasonScheduled,
			Message: fmt.Sprintf("Placed on %s; restored from the provider ServiceWork on %s after status.placement was lost; %s", rec.Cluster, rec.Cluster, message)}
		return
	}
	s.placed = placedCondition{Status: false, Reason: reason, Message: message}
}

// defaultPolicy returns the default policy when exactly one policy sets
// spec.default, it compiles, and its strategy is the service's; nil (the
// built-in profile) otherwise. The placementpolicy controller reports the
// same rule in each policy's Accepted condition.
func (r *Reconciler) defaultPolicy(ctx context.Context, ms *fleetv1alpha1.ManagedService) (*berthplacement.Policy, error) {
	list := &fleetv1alpha1.PlacementPolicyList{}
	if err := r.Client.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing PlacementPolicies: %w", err)
	}
	var def *fleetv1alpha1.PlacementPolicy
	for i := range list.Items {
		if list.Items[i].Spec.Default {
			if def != nil {
				return nil, nil // MultipleDefaults: none is used
			}
			def = &list.Items[i]
		}
	}
	if def == nil {
		return nil, nil
	}
	pol, err := r.compile(def)
	if err != nil || pol.Strategy != strategyOf(ms) {
		return nil, nil
	}
	return pol, nil
}

func strategyOf(ms *fleetv1alpha1.ManagedService) fleetv1alpha1.Strategy {
	if ms.Spec.Placement.Strategy == "" {
		return fleetv1alpha1.StrategyWorkload
	}
	return ms.Spec.Placement.Strategy
}

// compile compiles a policy, caching the result per generation.
func (r *Reconciler) compile(pp *fleetv1alpha1.PlacementPolicy) (*berthplacement.Policy, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.policies[pp.Name]; ok && c.uid == pp.UID && c.generation == pp.Generation {
		return c.policy, c.err
	}
	pol, err := r.Placer.CompilePolicy(pp)
	if r.policies == nil {
		r.policies = map[string]compiledPolicy{}
	}
	r.policies[pp.Name] = compiledPolicy{uid: pp.UID, generation: pp.Generation, policy: pol, err: err}
	return pol, err
}

// snapshot returns the fleet snapshot, rebuilt when a member changed.
func (r *Reconciler) snapshot(ctx context.Context) (*framework.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gen := r.memberGen.Load()
	if r.snap != nil && r.snapGen == gen {
		return r.snap, nil
	}
	list := &fleetv1alpha1.MemberClusterList{}
	// The snapshot only reads the cached objects, so no copy is needed.
	if err := r.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing MemberClusters: %w", err)
	}
	mcs := make([]*fleetv1alpha1.MemberCluster, len(list.Items))
	for i := range list.Items {
		mcs[i] = &list.Items[i]
	}
	r.snap, r.snapGen = framework.NewSnapshot(mcs), gen
	return r.snap, nil
}

// tenantPlacements counts the other services of the namespace per cluster.
func (r *Reconciler) tenantPlacements(ctx context.Context, ms *fleetv1alpha1.ManagedService) (map[string]int32, error) {
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := r.Client.List(ctx, list, client.InNamespace(ms.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing ManagedServices in %s: %w", ms.Namespace, err)
	}
	counts := map[string]int32{}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Name != ms.Name && o.Status.Placement.Cluster != "" {
			counts[o.Status.Placement.Cluster]++
		}
	}
	return counts, nil
}

// reconcileDecision runs the placement and sets what the status will say.
func (r *Reconciler) reconcileDecision(ctx context.Context, s *scope) (ctrl.Result, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	svc := framework.NewService(s.ms)
	if svc.TenantPlacements, err = r.tenantPlacements(ctx, s.ms); err != nil {
		return ctrl.Result{}, err
	}
	d, err := r.Placer.Decide(ctx, berthplacement.Request{
		Service:      svc,
		Policy:       s.policy,
		Snapshot:     snap,
		Replace:      s.replace,
		PlacedReason: currentPlaced(s.ms).Reason,
		Recorded:     s.recorded,
	}, r.Clock.Now())
	observe(s, d, err)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("placing %s/%s: %w", s.ms.Namespace, s.ms.Name, err)
	}
	s.decision = d
	s.placement = d.Placement
	s.placed = placedCondition{Status: d.Placed, Reason: d.Reason, Message: d.Message}
	return ctrl.Result{}, nil
}

// observe records the decision's metrics.
func observe(s *scope, d *berthplacement.Decision, err error) {
	strategy := string(strategyOf(s.ms))
	if s.policy != nil {
		strategy = string(s.policy.Strategy)
	}
	if err != nil {
		DecisionsTotal.WithLabelValues(strategy, ResultError).Inc()
		return
	}
	for _, a := range d.Attempts {
		DecisionDuration.WithLabelValues(string(a.Strategy)).Observe(a.Duration.Seconds())
	}
	result := ResultKept
	if d.Restored {
		result = ResultRestored
	}
	switch d.Outcome {
	case berthplacement.OutcomePlaced:
		strategy = string(d.Placement.Strategy)
		switch {
		case s.replace:
			result = ResultReplaced
		case d.Reason == fleetv1alpha1.ReasonFallback:
			result = ResultFallback
		default:
			result = ResultScheduled
		}
	case berthplacement.OutcomeUnschedulable:
		result = ResultUnschedulable
		for _, a := range d.Attempts {
			if a.Result.Len() > 0 {
				// Candidates are ordered by how far they got: the first
				// one's filter is what stopped the most promising cluster.
				c := a.Result.Candidate(0)
				UnschedulableTotal.WithLabelValues(a.Result.Filters[c.FailedFilter]).Inc()
			}
		}
	case berthplacement.OutcomeReplaceFailed:
		result = ResultReplaceFailed
	case berthplacement.OutcomeClusterGone:
		result = ResultClusterGone
	}
	DecisionsTotal.WithLabelValues(strategy, result).Inc()
}
