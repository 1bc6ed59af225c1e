package propagation

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/binding"
)

// FieldOwner is the field manager of everything this controller applies.
const FieldOwner = "berth-hub-propagation"

// Reconciler writes the ServiceWorks of placed ManagedServices, moves them
// between clusters, and aggregates their status.
type Reconciler struct {
	// Client reads and writes the hub.
	Client client.Client
	// Recorder records Events on ManagedServices.
	Recorder events.EventRecorder
}

// SetupWithManager registers the Reconciler with mgr.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		return errors.New("propagation: Client must not be nil")
	}
	if r.Recorder == nil {
		return errors.New("propagation: Recorder must not be nil")
	}
	if err := binding.RegisterIndex(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("propagation").
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		For(&fleetv1alpha1.ManagedService{}, builder.WithPredicates(serviceChanged())).
		Watches(&fleetv1alpha1.ServiceWork{}, handler.EnqueueRequestsFromMapFunc(workToService),
			builder.WithPredicates(workChanged())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretToServices),
			builder.WithPredicates(hasLabel(fleetv1alpha1.LabelManagedService), secretDataChanged())).
		Complete(r)
}

// Reconcile brings the ServiceWorks of one ManagedService in line with its
// placement and reports their status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	ms := &fleetv1alpha1.ManagedService{}
	if err := r.Client.Get(ctx, req.NamespacedName, ms); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	works, err := binding.List(ctx, r.Client, ms)
	if err != nil {
		return ctrl.Result{}, err
	}

	if !ms.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, ms, works)
	}

	if !controllerutil.ContainsFinalizer(ms, fleetv1alpha1.FinalizerService) {
		patch := client.MergeFromWithOptions(ms.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(ms, fleetv1alpha1.FinalizerService)
		if err := r.Client.Patch(ctx, ms, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}

	p, err := r.plan(ctx, ms, works)
	if err != nil {
		return ctrl.Result{}, err
	}

	// Status is computed from what the spokes reported, whatever happens
	// below, so a failed write never hides earlier progress.
	defer func() {
		if err := r.applyStatus(ctx, ms, p, works); err != nil {
			reterr = errors.Join(reterr, err)
		}
	}()

	// Works whose deletion was asked for earlier are released once their
	// spoke cleaned up, decision or not.
	if err := r.releaseRemovedWorks(ctx, works); err != nil {
		return ctrl.Result{}, err
	}
	if p.decided == "" {
		// No decision (unplaced, Placed not True, or status lost before the
		// placement controller restored it): nothing is written or deleted.
		return ctrl.Result{}, nil
	}
	if err := r.applyWorks(ctx, p, works); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.removeSuperseded(ctx, ms, p); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// reconcileDelete deletes every work of a deleted service (its spokes honour
// deletionPolicy) and the credentials copies, and drops the service's
// finalizer once the works are gone.
func (r *Reconciler) reconcileDelete(ctx context.Context, ms *fleetv1alpha1.ManagedService, works []fleetv1alpha1.ServiceWork) error {
	if !controllerutil.ContainsFinalizer(ms, fleetv1alpha1.FinalizerService) {
		return nil
	}
	var pending []string
	for i := range works {
		w := &works[i]
		pending = append(pending, w.Namespace+"/"+w.Name)
		if w.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, w); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting ServiceWork %s: %w", client.ObjectKeyFromObject(w), err)
			}
		}
	}
	if err := r.releaseRemovedWorks(ctx, works); err != nil {
		return err
	}
	if err := r.deleteCopies(ctx, ms, func(*corev1.Secret) bool { return true }); err != nil {
		return err
	}
	if len(pending) > 0 {
		// The works' spokes finish their cleanup and drop their finalizer;
		// the ServiceWork watch brings us back then.
		cond := metav1.Condition{
			Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionFalse, Reason: "Deleting",
			Message: fmt.Sprintf("Waiting for the spokes to clean up %v", pending),
		}
		want := currentOwned(ms)
		want.setCondition(cond)
		return r.writeStatus(ctx, ms, want)
	}
	patch := client.MergeFromWithOptions(ms.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(ms, fleetv1alpha1.FinalizerService)
	if err := r.Client.Patch(ctx, ms, patch); err != nil {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	return nil
}

// releaseRemovedWorks drops FinalizerWork from works being deleted whose
// spoke reported Removed=True.
func (r *Reconciler) releaseRemovedWorks(ctx context.Context, works []fleetv1alpha1.ServiceWork) error {
	for i := range works {
		w := &works[i]
		if w.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(w, fleetv1alpha1.FinalizerWork) ||
			!meta.IsStatusConditionTrue(w.Status.Conditions, fleetv1alpha1.ConditionRemoved) {
			continue
		}
		patch := client.MergeFromWithOptions(w.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.RemoveFinalizer(w, fleetv1alpha1.FinalizerWork)
		if err := r.Client.Patch(ctx, w, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("releasing ServiceWork %s: %w", client.ObjectKeyFromObject(w), err)
		}
	}
	return nil
}

// removeSuperseded deletes the provider works no consumer uses any more (the
// old provider of a completed move, the unused target of a cancelled one),
// the credentials copies no consumer reads, and the spent accept-move
// annotation. It acts only once the consumer's spoke applied the binding to
// the current provider, so consumers never lose the provider they use.
func (r *Reconciler) removeSuperseded(ctx context.Context, ms *fleetv1alpha1.ManagedService, p *plan) error {
	log := ctrl.LoggerFrom(ctx)
	if p.settled {
		for _, w := range p.superseded {
			log.Info("Deleting ServiceWork no consumer uses", "managedService", klog.KObj(ms), "servicework", klog.KObj(w))
			if err := r.Client.Delete(ctx, w); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting ServiceWork %s: %w", client.ObjectKeyFromObject(w), err)
			}
			r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, "WorkRemoved", "Propagate",
				"Deleted ServiceWork %s/%s: consumers use the provider on %s (its spoke honours deletionPolicy %s)",
				w.Namespace, w.Name, p.bound, ms.Spec.DeletionPolicy)
		}
		consumerSecret := ""
		if c := p.binding.Consumer; c != nil && c.Spec.Provider != nil {
			consumerSecret = c.Spec.Provider.CredentialsSecret
		}
		if err := r.deleteCopies(ctx, ms, func(s *corev1.Secret) bool {
			return s.Namespace == fleetv1alpha1.MemberNamespace(ms.Spec.Consumer.Cluster) &&
				!p.copies[s.Name] && s.Name != consumerSecret
		}); err != nil {
			return err
		}
	}
	if p.removeAck {
		patch := client.MergeFrom(ms.DeepCopy())
		delete(ms.Annotations, fleetv1alpha1.AnnotationAcceptMove)
		if err := r.Client.Patch(ctx, ms, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("removing the %s annotation: %w", fleetv1alpha1.AnnotationAcceptMove, err)
		}
	}
	return nil
}

// Watch mappings and predicates.

func workToService(_ context.Context, obj client.Object) []reconcile.Request {
	w, ok := obj.(*fleetv1alpha1.ServiceWork)
	if !ok || w.Spec.ServiceRef.Name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: w.Spec.ServiceRef.Namespace, Name: w.Spec.ServiceRef.Name}}}
}

// secretToServices maps a labelled credentials Secret in a member namespace
// to the ManagedServices whose works live there.
func (r *Reconciler) secretToServices(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &fleetv1alpha1.ServiceWorkList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{
		fleetv1alpha1.LabelManagedService: obj.GetLabels()[fleetv1alpha1.LabelManagedService],
	}); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		reqs = append(reqs, workToService(ctx, &list.Items[i])...)
	}
	return reqs
}

func hasLabel(key string) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := o.GetLabels()[key]
		return ok
	})
}

// resync reports whether an update event is a periodic resync (the same
// object twice); resyncs pass every predicate, as a safety net that writes
// nothing when nothing changed.
func resync(e event.UpdateEvent) bool {
	return e.ObjectOld.GetResourceVersion() == e.ObjectNew.GetResourceVersion()
}

// metaChanged reports whether what every controller reacts to in metadata
// changed: generation, deletion or finalizers.
func metaChanged(o, n client.Object) bool {
	return o.GetGeneration() != n.GetGeneration() ||
		o.GetDeletionTimestamp().IsZero() != n.GetDeletionTimestamp().IsZero() ||
		!equality.Semantic.DeepEqual(o.GetFinalizers(), n.GetFinalizers())
}

// serviceChanged passes ManagedService updates that change what this
// controller does: the spec, the annotations (fleet.berth.io/accept-move),
// deletion and finalizers, the decision (status.placement.cluster and the
// Placed status), and the loss of the conditions it owns. Its own status
// writes and the placement controller's candidate refreshes are filtered
// out.
func serviceChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*fleetv1alpha1.ManagedService)
			n, ok2 := e.ObjectNew.(*fleetv1alpha1.ManagedService)
			if !ok1 || !ok2 || resync(e) || metaChanged(o, n) {
				return true
			}
			return !equality.Semantic.DeepEqual(o.Annotations, n.Annotations) ||
				o.Status.Placement.Cluster != n.Status.Placement.Cluster ||
				placedStatus(o) != placedStatus(n) ||
				meta.FindStatusCondition(n.Status.Conditions, fleetv1alpha1.ConditionPropagated) == nil ||
				meta.FindStatusCondition(n.Status.Conditions, fleetv1alpha1.ConditionReady) == nil
		},
	}
}

func placedStatus(ms *fleetv1alpha1.ManagedService) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced); c != nil {
		return c.Status
	}
	return ""
}

// workChanged passes ServiceWork updates made by spokes (status) and the
// ones that change the work's life (generation, deletion, finalizers). The
// hub's own metadata-only applies are filtered out.
func workChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*fleetv1alpha1.ServiceWork)
			n, ok2 := e.ObjectNew.(*fleetv1alpha1.ServiceWork)
			if !ok1 || !ok2 || resync(e) || metaChanged(o, n) {
				return true
			}
			return !equality.Semantic.DeepEqual(o.Status, n.Status)
		},
	}
}

// secretDataChanged passes Secret updates that change the credentials.
func secretDataChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Secret)
			n, ok2 := e.ObjectNew.(*corev1.Secret)
			if !ok1 || !ok2 || resync(e) {
				return true
			}
			return o.Type != n.Type || !equality.Semantic.DeepEqual(o.Data, n.Data) ||
				o.GetDeletionTimestamp().IsZero() != n.GetDeletionTimestamp().IsZero()
		},
	}
}
