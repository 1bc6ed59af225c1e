package placementpolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	berthplacement "github.com/berth-io/berth/placement"
)

// Reconciler sets the Accepted condition of PlacementPolicies.
type Reconciler struct {
	// Client reads from the manager's cache and writes to the apiserver.
	Client client.Client
	// Placer compiles policies against the hub's registry and profiles.
	Placer *berthplacement.Placer
	// Clock stamps conditions; nil means the real clock.
	Clock clock.PassiveClock
}

// SetupWithManager registers the controller. Every policy event also
// re-validates the default policies, since whether a default is the only
// one depends on the others.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	switch {
	case r.Client == nil:
		return errors.New("placementpolicy.Reconciler: Client must not be nil")
	case r.Placer == nil:
		return errors.New("placementpolicy.Reconciler: Placer must not be nil")
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("placementpolicy").
		For(&fleetv1alpha1.PlacementPolicy{}).
		Watches(&fleetv1alpha1.PlacementPolicy{}, handler.EnqueueRequestsFromMapFunc(r.defaults)).
		Complete(r)
}

// defaults lists the default policies.
func (r *Reconciler) defaults(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &fleetv1alpha1.PlacementPolicyList{}
	if err := r.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing PlacementPolicies")
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if list.Items[i].Spec.Default {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: list.Items[i].Name}})
		}
	}
	return reqs
}

// Reconcile validates one policy.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	pp := &fleetv1alpha1.PlacementPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, pp); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting PlacementPolicy: %w", err)
	}
	base := pp.DeepCopy()
	defer func() {
		if reterr != nil || equalStatus(base.Status, pp.Status) {
			return
		}
		if err := r.Client.Status().Patch(ctx, pp, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			reterr = fmt.Errorf("patching status of PlacementPolicy %s: %w", pp.Name, err)
		}
	}()

	_, compileErr := r.Placer.CompilePolicy(pp)
	var others []string
	if pp.Spec.Default {
		list := &fleetv1alpha1.PlacementPolicyList{}
		if err := r.Client.List(ctx, list); err != nil {
			return ctrl.Result{}, fmt.Errorf("listing PlacementPolicies: %w", err)
		}
		for i := range list.Items {
			if o := &list.Items[i]; o.Spec.Default && o.Name != pp.Name {
				others = append(others, o.Name)
			}
		}
	}
	setAcceptedCondition(pp, compileErr, others, metav1.NewTime(r.Clock.Now()))
	pp.Status.ObservedGeneration = pp.Generation
	return ctrl.Result{}, nil
}

// setAcceptedCondition sets Accepted from the compile error and the other
// default policies (only looked up when pp is a default).
func setAcceptedCondition(pp *fleetv1alpha1.PlacementPolicy, compileErr error, otherDefaults []string, now metav1.Time) {
	c := metav1.Condition{
		Type:               fleetv1alpha1.ConditionAccepted,
		Status:             metav1.ConditionTrue,
		Reason:             fleetv1alpha1.ReasonValid,
		Message:            "The policy's plugins exist and their args decode",
		ObservedGeneration: pp.Generation,
		LastTransitionTime: now,
	}
	switch {
	case compileErr != nil:
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonPolicyInvalid
		c.Message = strings.ReplaceAll(compileErr.Error(), "\n", "; ")
	case len(otherDefaults) > 0:
		all := append(slices.Clone(otherDefaults), pp.Name)
		slices.Sort(all)
		c.Status, c.Reason = metav1.ConditionFalse, fleetv1alpha1.ReasonMultipleDefaults
		c.Message = fmt.Sprintf("%d policies set spec.default (%s); none of them is used until only one does",
			len(all), strings.Join(all, ", "))
	}
	meta.SetStatusCondition(&pp.Status.Conditions, c)
}

func equalStatus(a, b fleetv1alpha1.PlacementPolicyStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message ||
			x.ObservedGeneration != y.ObservedGeneration || !x.LastTransitionTime.Equal(&y.LastTransitionTime) {
			return false
		}
	}
	return true
}
