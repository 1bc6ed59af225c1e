package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/ssa"
)

// FieldOwner is the field manager of everything this controller applies.
const FieldOwner = "berth-hub-propagation"

// credentialsSuffix ends the name of the credentials Secret the hub copies
// into a remote consumer's hub namespace.
const credentialsSuffix = ".credentials"

// Reconciler writes the ServiceWorks of placed ManagedServices and
// aggregates their status.
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
	return ctrl.NewControllerManagedBy(mgr).
		Named("propagation").
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		For(&fleetv1alpha1.ManagedService{}).
		Watches(&fleetv1alpha1.ServiceWork{}, handler.EnqueueRequestsFromMapFunc(workToService)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretToServices),
			builder.WithPredicates(hasLabel(fleetv1alpha1.LabelManagedService))).
		Complete(r)
}

// Reconcile brings the ServiceWorks of one ManagedService in line with its
// placement and reports their status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	ms := &fleetv1alpha1.ManagedService{}
	if err := r.Client.Get(ctx, req.NamespacedName, ms); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	works, err := r.listWorks(ctx, ms)
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

	desired, err := r.desiredWorks(ctx, ms, works)
	if err != nil {
		return ctrl.Result{}, err
	}

	// Status is computed from what the spokes reported, whatever happens
	// below, so a failed write never hides earlier progress.
	defer func() {
		if err := r.applyStatus(ctx, ms, desired, works); err != nil {
			reterr = errors.Join(reterr, err)
		}
	}()

	for _, w := range desired {
		if live := findWork(works, w); live != nil && !live.DeletionTimestamp.IsZero() {
			continue // comes back once the spoke finished removing it
		}
		if err := ssa.Apply(ctx, r.Client, w, FieldOwner); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.releaseRemovedWorks(ctx, works); err != nil {
		return ctrl.Result{}, err
	}
	for i := range works {
		w := &works[i]
		if containsWork(desired, w) || !w.DeletionTimestamp.IsZero() {
			continue
		}
		log.Info("Deleting ServiceWork the placement no longer needs", "servicework", client.ObjectKeyFromObject(w))
		if err := r.Client.Delete(ctx, w); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("deleting ServiceWork %s: %w", client.ObjectKeyFromObject(w), err)
		}
		r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, "WorkRemoved", "Propagate",
			"Removed ServiceWork %s/%s after the placement changed", w.Namespace, w.Name)
	}
	return ctrl.Result{}, nil
}

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
	if err := r.deleteCopiedSecrets(ctx, ms); err != nil {
		return err
	}
	if len(pending) > 0 {
		// The works' spokes finish their cleanup and drop their finalizer;
		// the ServiceWork watch brings us back then.
		cond := metav1.Condition{
			Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionFalse, Reason: "Deleting",
			Message: fmt.Sprintf("Waiting for the spokes to clean up %v", pending),
		}
		return r.applyConditions(ctx, ms, cond)
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

// listWorks returns every ServiceWork of ms, in any member namespace.
func (r *Reconciler) listWorks(ctx context.Context, ms *fleetv1alpha1.ManagedService) ([]fleetv1alpha1.ServiceWork, error) {
	list := &fleetv1alpha1.ServiceWorkList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{
		fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
	}); err != nil {
		return nil, fmt.Errorf("listing ServiceWorks: %w", err)
	}
	// The label may be a hash: keep only works that really point at ms.
	works := list.Items[:0]
	for _, w := range list.Items {
		if w.Spec.ServiceRef.Namespace == ms.Namespace && w.Spec.ServiceRef.Name == ms.Name {
			works = append(works, w)
		}
	}
	return works, nil
}

// desiredWorks returns the ServiceWorks ms needs at its current placement:
// none while unplaced, one when co-located, two when remote. For a remote
// consumer it also copies the provider's credentials Secret.
func (r *Reconciler) desiredWorks(ctx context.Context, ms *fleetv1alpha1.ManagedService, current []fleetv1alpha1.ServiceWork) ([]*fleetv1alpha1.ServiceWork, error) {
	provider := ms.Status.Placement.Cluster
	if provider == "" || !meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced) {
		return nil, nil
	}
	consumer := ms.Spec.Consumer.Cluster
	if provider == consumer {
		w := newWork(ms, provider, fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer)
		w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: provider}
		return []*fleetv1alpha1.ServiceWork{w}, nil
	}
	pw := newWork(ms, provider, fleetv1alpha1.RoleProvider)
	cw := newWork(ms, consumer, fleetv1alpha1.RoleConsumer)
	cw.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: provider}
	if live := findWork(current, pw); live != nil {
		cw.Spec.Provider.Endpoint = live.Status.Endpoint
		if name := live.Status.CredentialsSecret; name != "" {
			copied, err := r.copyCredentials(ctx, ms, live, name, cw.Namespace)
			if err != nil {
				return nil, err
			}
			cw.Spec.Provider.CredentialsSecret = copied
		}
	}
	return []*fleetv1alpha1.ServiceWork{pw, cw}, nil
}

func newWork(ms *fleetv1alpha1.ManagedService, member string, roles ...fleetv1alpha1.WorkRole) *fleetv1alpha1.ServiceWork {
	w := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{
			Name:       fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name),
			Namespace:  fleetv1alpha1.MemberNamespace(member),
			Finalizers: []string{fleetv1alpha1.FinalizerWork},
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
				fleetv1alpha1.LabelMember:         member,
			},
		},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles: roles,
			ServiceRef: fleetv1alpha1.ServiceReference{
				Namespace: ms.Namespace, Name: ms.Name, UID: string(ms.UID), Generation: ms.Generation,
			},
			Consumer: *ms.Spec.Consumer.DeepCopy(),
		},
	}
	// Consumers get the template too: the binding listens on the engine's
	// standard port.
	w.Spec.Service = &fleetv1alpha1.ServiceTemplate{
		Engine:         ms.Spec.Engine,
		Version:        ms.Spec.Version,
		Replicas:       ms.Spec.Replicas,
		Resources:      *ms.Spec.Resources.DeepCopy(),
		Storage:        *ms.Spec.Storage.DeepCopy(),
		NodePool:       ms.Spec.NodePool.DeepCopy(),
		DeletionPolicy: ms.Spec.DeletionPolicy,
	}
	return w
}

// copyCredentials copies the Secret the provider spoke published into the
// consumer's hub namespace and returns the copy's name.
func (r *Reconciler) copyCredentials(ctx context.Context, ms *fleetv1alpha1.ManagedService, provider *fleetv1alpha1.ServiceWork, name, consumerNS string) (string, error) {
	src := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: provider.Namespace, Name: name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil // not published yet; its creation triggers us
		}
		return "", fmt.Errorf("reading published credentials %s/%s: %w", provider.Namespace, name, err)
	}
	dst := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name) + credentialsSuffix,
			Namespace: consumerNS,
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
			},
		},
		Type: src.Type,
		Data: src.Data,
	}
	if err := ssa.Apply(ctx, r.Client, dst, FieldOwner); err != nil {
		return "", err
	}
	return dst.Name, nil
}

func (r *Reconciler) deleteCopiedSecrets(ctx context.Context, ms *fleetv1alpha1.ManagedService) error {
	list := &corev1.SecretList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{
		fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
	}); err != nil {
		return fmt.Errorf("listing copied credentials: %w", err)
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name)+credentialsSuffix {
			continue // published by a provider spoke; the spoke removes it
		}
		if err := r.Client.Delete(ctx, s); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting copied credentials %s: %w", client.ObjectKeyFromObject(s), err)
		}
	}
	return nil
}

// applyStatus applies the fields of ManagedService status this controller
// owns.
func (r *Reconciler) applyStatus(ctx context.Context, ms *fleetv1alpha1.ManagedService, desired []*fleetv1alpha1.ServiceWork, works []fleetv1alpha1.ServiceWork) error {
	s := summarize(ms, desired, works)
	conds := []metav1.Condition{s.Propagated, s.Ready}
	status := map[string]any{"observedGeneration": ms.Status.ObservedGeneration}
	if s.Propagated.Status == metav1.ConditionTrue {
		status["observedGeneration"] = ms.Generation
	}
	if s.Endpoint != nil {
		ep, err := ssa.ToMap(s.Endpoint)
		if err != nil {
			return err
		}
		status["endpoint"] = ep
	}
	status["readyReplicas"] = int64(s.ReadyReplicas)
	if wasReady := meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionReady); wasReady != (s.Ready.Status == metav1.ConditionTrue) {
		r.Recorder.Eventf(ms, nil, corev1.EventTypeNormal, s.Ready.Reason, "Propagate", "Ready=%s: %s", s.Ready.Status, s.Ready.Message)
	}
	return r.applyStatusFields(ctx, ms, status, conds...)
}

func (r *Reconciler) applyConditions(ctx context.Context, ms *fleetv1alpha1.ManagedService, conds ...metav1.Condition) error {
	status := map[string]any{"observedGeneration": ms.Status.ObservedGeneration, "readyReplicas": int64(ms.Status.ReadyReplicas)}
	if ms.Status.Endpoint != nil {
		ep, err := ssa.ToMap(ms.Status.Endpoint)
		if err != nil {
			return err
		}
		status["endpoint"] = ep
	}
	ready := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionReady)
	if ready != nil {
		conds = append(conds, *ready)
	}
	return r.applyStatusFields(ctx, ms, status, conds...)
}

// applyStatusFields applies status plus conds, keeping each condition's
// lastTransitionTime when its status did not change.
func (r *Reconciler) applyStatusFields(ctx context.Context, ms *fleetv1alpha1.ManagedService, status map[string]any, conds ...metav1.Condition) error {
	existing := slices.Clone(ms.Status.Conditions)
	var list []any
	for _, c := range conds {
		c.ObservedGeneration = ms.Generation
		meta.SetStatusCondition(&existing, c)
		merged := meta.FindStatusCondition(existing, c.Type)
		m, err := ssa.ToMap(merged)
		if err != nil {
			return err
		}
		list = append(list, m)
	}
	status["conditions"] = list
	gvk := fleetv1alpha1.GroupVersion.WithKind("ManagedService")
	return ssa.ApplyStatus(ctx, r.Client, gvk, client.ObjectKeyFromObject(ms), status, FieldOwner)
}

func containsWork(desired []*fleetv1alpha1.ServiceWork, w *fleetv1alpha1.ServiceWork) bool {
	return slices.ContainsFunc(desired, func(d *fleetv1alpha1.ServiceWork) bool {
		return d.Namespace == w.Namespace && d.Name == w.Name
	})
}

func findWork(works []fleetv1alpha1.ServiceWork, want *fleetv1alpha1.ServiceWork) *fleetv1alpha1.ServiceWork {
	for i := range works {
		if works[i].Namespace == want.Namespace && works[i].Name == want.Name {
			return &works[i]
		}
	}
	return nil
}

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
