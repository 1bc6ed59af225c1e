package placement

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/binding"
	berthplacement "github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
)

// FieldManager owns status.placement and the Placed condition.
const FieldManager = "berth-placement"

// DefaultRefreshInterval is how often a placed service is re-evaluated to
// refresh its candidates and better candidate.
const DefaultRefreshInterval = 5 * time.Minute

// Field indexes on ManagedServices.
const (
	// IndexPlacedCluster indexes status.placement.cluster ("" = unplaced).
	IndexPlacedCluster = "status.placement.cluster"
	// IndexPolicyRef indexes spec.placement.policyRef.name.
	IndexPolicyRef = "spec.placement.policyRef.name"
)

// Reconciler places ManagedServices on member clusters.
type Reconciler struct {
	// Client reads from the manager's cache and writes to the apiserver.
	Client client.Client
	// Recorder records Events on ManagedServices.
	Recorder events.EventRecorder
	// Placer holds the hub's registry and profiles.
	Placer *berthplacement.Placer
	// Clock stamps decisions; nil means the real clock.
	Clock clock.PassiveClock
	// RefreshInterval re-evaluates services to refresh their candidates;
	// 0 means DefaultRefreshInterval, negative disables it.
	RefreshInterval time.Duration
	// MaxConcurrentReconciles defaults to 1.
	MaxConcurrentReconciles int

	// memberGen counts MemberCluster events; the snapshot is rebuilt when
	// it moved.
	memberGen atomic.Uint64

	mu       sync.Mutex
	snap     *framework.Snapshot
	snapGen  uint64
	policies map[string]compiledPolicy
}

type compiledPolicy struct {
	uid        types.UID
	generation int64
	policy     *berthplacement.Policy
	err        error
}

// SetupWithManager registers the field indexes and the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	switch {
	case r.Client == nil:
		return errors.New("placement.Reconciler: Client must not be nil")
	case r.Recorder == nil:
		return errors.New("placement.Reconciler: Recorder must not be nil")
	case r.Placer == nil:
		return errors.New("placement.Reconciler: Placer must not be nil")
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.RefreshInterval == 0 {
		r.RefreshInterval = DefaultRefreshInterval
	}
	idx := mgr.GetFieldIndexer()
	if err := binding.RegisterIndex(ctx, idx); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &fleetv1alpha1.ManagedService{}, IndexPlacedCluster, func(o client.Object) []string {
		return []string{o.(*fleetv1alpha1.ManagedService).Status.Placement.Cluster}
	}); err != nil {
		return fmt.Errorf("indexing %s: %w", IndexPlacedCluster, err)
	}
	if err := idx.IndexField(ctx, &fleetv1alpha1.ManagedService{}, IndexPolicyRef, func(o client.Object) []string {
		if ref := o.(*fleetv1alpha1.ManagedService).Spec.Placement.PolicyRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing %s: %w", IndexPolicyRef, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("placement").
		For(&fleetv1alpha1.ManagedService{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, placementLost()))).
		Watches(&fleetv1alpha1.MemberCluster{}, handler.EnqueueRequestsFromMapFunc(r.memberChanged)).
		Watches(&fleetv1alpha1.PlacementPolicy{}, handler.EnqueueRequestsFromMapFunc(r.policyChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Complete(r)
}

// memberChanged invalidates the snapshot and enqueues the unplaced
// services: placed services never move because a member changed.
func (r *Reconciler) memberChanged(ctx context.Context, _ client.Object) []reconcile.Request {
	r.memberGen.Add(1)
	return r.unplaced(ctx)
}

// policyChanged enqueues the unplaced services and those naming the policy.
func (r *Reconciler) policyChanged(ctx context.Context, o client.Object) []reconcile.Request {
	reqs := r.unplaced(ctx)
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := r.Client.List(ctx, list, client.MatchingFields{IndexPolicyRef: o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing services of a policy", "policy", o.GetName())
		return reqs
	}
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

func (r *Reconciler) unplaced(ctx context.Context) []reconcile.Request {
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := r.Client.List(ctx, list, client.MatchingFields{IndexPlacedCluster: ""}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing unplaced services")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// placementLost passes updates that removed the decision from status (a
// wipe, a restore without status), so it is restored from the binding at
// once rather than at the next refresh.
func placementLost() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*fleetv1alpha1.ManagedService)
			n, ok2 := e.ObjectNew.(*fleetv1alpha1.ManagedService)
			if !ok1 || !ok2 {
				return false
			}
			lostCluster := o.Status.Placement.Cluster != "" && n.Status.Placement.Cluster == ""
			lostCondition := meta.FindStatusCondition(o.Status.Conditions, fleetv1alpha1.ConditionPlaced) != nil &&
				meta.FindStatusCondition(n.Status.Conditions, fleetv1alpha1.ConditionPlaced) == nil
			return lostCluster || lostCondition
		},
	}
}

// scope is the state of one reconcile.
type scope struct {
	ms      *fleetv1alpha1.ManagedService
	replace bool
	// recorded is the decision recorded in the binding, set only when
	// status.placement.cluster is empty.
	recorded *fleetv1alpha1.PlacementDecision
	policy   *berthplacement.Policy
	decision *berthplacement.Decision
	// placement and placed are what the status will say.
	placement fleetv1alpha1.PlacementDecision
	placed    placedCondition
	// done stops the remaining phases.
	done bool
}

// Reconcile places one ManagedService.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	ms := &fleetv1alpha1.ManagedService{}
	if err := r.Client.Get(ctx, req.NamespacedName, ms); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting ManagedService: %w", err)
	}
	if !ms.DeletionTimestamp.IsZero() {
		// The propagation controller drains a deleted service; placement
		// has nothing more to decide.
		return ctrl.Result{}, nil
	}
	_, replace := ms.Annotations[fleetv1alpha1.AnnotationReplace]
	s := &scope{ms: ms, replace: replace, placement: *ms.Status.Placement.DeepCopy()}
	if ms.Status.Placement.Cluster == "" {
		works, err := binding.List(ctx, r.Client, ms)
		if err != nil {
			return ctrl.Result{}, err
		}
		if d, ok := binding.Read(ms, works).Recorded(); ok {
			s.recorded = &d
		}
	}

	// The status is written once, at the end, whatever the phases did.
	defer func() {
		if s.placed.Reason == "" {
			return
		}
		changed, err := r.applyStatus(ctx, s)
		if err != nil {
			reterr = errors.Join(reterr, err)
			return
		}
		if changed {
			r.recordEvents(s)
		}
		if reterr == nil && s.replace && s.decision != nil {
			reterr = r.acknowledgeReplace(ctx, s)
		}
	}()

	phases := []func(context.Context, *scope) (ctrl.Result, error){
		r.reconcilePolicy,
		r.reconcileDecision,
	}
	var res ctrl.Result
	for _, phase := range phases {
		pr, err := phase(ctx, s)
		if err != nil {
			return ctrl.Result{}, err
		}
		if pr.RequeueAfter > 0 && (res.RequeueAfter == 0 || pr.RequeueAfter < res.RequeueAfter) {
			res.RequeueAfter = pr.RequeueAfter
		}
		if s.done {
			break
		}
	}
	if r.RefreshInterval > 0 && (res.RequeueAfter == 0 || r.RefreshInterval < res.RequeueAfter) {
		res.RequeueAfter = r.RefreshInterval
	}
	log.V(4).Info("Reconciled placement", "managedService", klog.KObj(ms), "cluster", s.placement.Cluster, "reason", s.placed.Reason)
	return res, nil
}

// acknowledgeReplace removes the replace annotation once the request was
// acted upon, and records what happened.
func (r *Reconciler) acknowledgeReplace(ctx context.Context, s *scope) error {
	value := s.ms.Annotations[fleetv1alpha1.AnnotationReplace]
	d := s.decision
	switch {
	case d.Outcome == berthplacement.OutcomeReplaceFailed:
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeWarning, "ReplaceFailed", "Replace",
			"Re-placement requested (%q) found no cluster; the service stays on %s: %s", value, d.Previous, d.Message)
	case d.Previous == "":
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, "Replaced", "Replace",
			"Re-placement requested (%q) for an unplaced service: %s", value, d.Message)
	case d.Placement.Cluster == d.Previous:
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, "Replaced", "Replace",
			"Re-placement requested (%q): %s is still the best cluster, the service stays", value, d.Previous)
	default:
		r.Recorder.Eventf(s.ms, nil, corev1.EventTypeNormal, "Replaced", "Replace",
			"Re-placement requested (%q): moved from %s to %s", value, d.Previous, d.Placement.Cluster)
	}
	patch := client.MergeFrom(s.ms.DeepCopy())
	delete(s.ms.Annotations, fleetv1alpha1.AnnotationReplace)
	if err := r.Client.Patch(ctx, s.ms, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the %s annotation: %w", fleetv1alpha1.AnnotationReplace, err)
	}
	return nil
}
