package membercluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
)

// Defaults of the Reconciler's tunables.
const (
	// DefaultTokenExpiration is the life of a spoke's hub token.
	DefaultTokenExpiration = time.Hour
	// DefaultLeaseGraceFactor multiplies a Lease's duration to give the
	// window after which the member is unavailable.
	DefaultLeaseGraceFactor = 1.5
	// MinTokenExpiration is the shortest token the TokenRequest API issues.
	MinTokenExpiration = 10 * time.Minute
)

// Reconciler reconciles MemberClusters; see the package documentation.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the hub.
	Client client.Client
	// Recorder records Events on MemberClusters.
	Recorder events.EventRecorder
	// HubServer is the hub apiserver URL spokes use.
	HubServer string
	// HubCAData is the PEM CA bundle spokes trust for HubServer; empty
	// means the system roots.
	HubCAData []byte
	// SpokeImage is installed into members from Cluster API; empty
	// disables installation (spokes are run some other way).
	SpokeImage string
	// SpokeExposureSourceCIDRs are passed to every installed spoke as
	// --exposure-source-cidr; empty allows every source.
	SpokeExposureSourceCIDRs []string
	// TokenExpiration is the life of the spoke's hub token (at least
	// MinTokenExpiration); zero means DefaultTokenExpiration.
	TokenExpiration time.Duration
	// LeaseGraceFactor multiplies the Lease duration; zero means
	// DefaultLeaseGraceFactor.
	LeaseGraceFactor float64
	// RemoteClient builds a client for a member cluster; nil means
	// client.New with the hub's scheme.
	RemoteClient func(*rest.Config) (client.Client, error)
	// Registerer receives the metrics; nil means controller-runtime's
	// metrics.Registry.
	Registerer prometheus.Registerer
	// MaxConcurrentReconciles defaults to 4.
	MaxConcurrentReconciles int

	metrics *Metrics
	// installed remembers, per member, the hash of the last successful
	// spoke installation, so unchanged installs do not reach the member.
	installed sync.Map
}

// SetupWithManager checks the Reconciler's dependencies, registers its
// metrics and starts watching.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		return errors.New("membercluster.Reconciler: Client must not be nil")
	}
	if r.Recorder == nil {
		return errors.New("membercluster.Reconciler: Recorder must not be nil")
	}
	if r.HubServer == "" {
		return errors.New("membercluster.Reconciler: HubServer must not be empty")
	}
	if r.TokenExpiration == 0 {
		r.TokenExpiration = DefaultTokenExpiration
	}
	if r.TokenExpiration < MinTokenExpiration {
		return fmt.Errorf("membercluster.Reconciler: TokenExpiration %s is shorter than %s", r.TokenExpiration, MinTokenExpiration)
	}
	if r.LeaseGraceFactor == 0 {
		r.LeaseGraceFactor = DefaultLeaseGraceFactor
	}
	if r.LeaseGraceFactor < 1 {
		return fmt.Errorf("membercluster.Reconciler: LeaseGraceFactor %g is below 1", r.LeaseGraceFactor)
	}
	if r.RemoteClient == nil {
		scheme := mgr.GetScheme()
		r.RemoteClient = func(cfg *rest.Config) (client.Client, error) {
			return client.New(cfg, client.Options{Scheme: scheme})
		}
	}
	if r.Registerer == nil {
		r.Registerer = metrics.Registry
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 4
	}
	r.metrics = NewMetrics(mgr.GetCache())
	if err := r.metrics.Register(r.Registerer); err != nil {
		return fmt.Errorf("registering member metrics: %w", err)
	}
	_ = ctx

	return ctrl.NewControllerManagedBy(mgr).
		For(&fleetv1alpha1.MemberCluster{}).
		Named("membercluster").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Owns(&corev1.Namespace{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&rbacv1.ClusterRole{}).
		Owns(&rbacv1.ClusterRoleBinding{}).
		// Peers: every member's ConfigMap lists the others' probe endpoints.
		Watches(&fleetv1alpha1.MemberCluster{}, handler.EnqueueRequestsFromMapFunc(r.allMembers),
			builder.WithPredicates(probeEndpointChanged())).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(memberOfNamespace),
			builder.WithPredicates(leaseMayChangeAvailability())).
		Watches(&fleetv1alpha1.ServiceWork{}, handler.EnqueueRequestsFromMapFunc(memberOfNamespace),
			builder.WithPredicates(workDrainEvent())).
		Watches(&clusterv1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.membersOfCluster)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.membersOfKubeconfigSecret)).
		Complete(r)
}

// scope carries one reconciliation's state between phases.
type scope struct {
	member    *fleetv1alpha1.MemberCluster
	namespace string
	cluster   *clusterv1.Cluster
	reg       registration
	// hubKubeconfig is the content of the hub-kubeconfig Secret.
	hubKubeconfig []byte
	avail         *availability
}

// Reconcile registers one member, judges its Lease, and drains it on
// deletion.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	member := &fleetv1alpha1.MemberCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, member); err != nil {
		if apierrors.IsNotFound(err) {
			r.installed.Delete(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting MemberCluster %s: %w", req.Name, err)
	}
	s := &scope{member: member, namespace: NamespaceFor(member.Name)}
	s.reg.accepted = member.Spec.Accepted
	if ref := member.Spec.ClusterRef; ref != nil {
		s.reg.clusterRef = ref.Namespace + "/" + ref.Name
	}

	if !member.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}

	if controllerutil.AddFinalizer(member, fleetv1alpha1.FinalizerMember) {
		before := member.DeepCopy()
		before.Finalizers = nil
		if err := r.Client.Patch(ctx, member, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to MemberCluster %s: %w", member.Name, err)
		}
	}

	defer func() {
		if err := r.patchStatus(ctx, s, reterr == nil); err != nil {
			reterr = kerrors.NewAggregate([]error{reterr, err})
		}
	}()

	var results []ctrl.Result
	if member.Spec.Accepted {
		phases := []func(context.Context, *scope) (ctrl.Result, error){
			r.reconcileCluster,
			r.reconcileNamespace,
			r.reconcileIdentity,
			r.reconcileCredentials,
			r.reconcileSpokeInstall,
			r.reconcilePeers,
		}
		for _, phase := range phases {
			res, err := phase(ctx, s)
			if err != nil {
				s.reg.phaseErr = err
				log.Error(err, "Registration phase failed", "member", klog.KObj(member))
				break
			}
			results = append(results, res)
		}
		res, err := r.reconcileAvailability(ctx, s)
		if err != nil {
			return ctrl.Result{}, err
		}
		results = append(results, res)
	}
	if s.reg.phaseErr != nil {
		return ctrl.Result{}, s.reg.phaseErr
	}
	return lowestRequeue(results), nil
}

func lowestRequeue(results []ctrl.Result) ctrl.Result {
	var out ctrl.Result
	for _, r := range results {
		if r.RequeueAfter > 0 && (out.RequeueAfter == 0 || r.RequeueAfter < out.RequeueAfter) {
			out.RequeueAfter = r.RequeueAfter
		}
	}
	return out
}

// reconcileDelete keeps the member until its ServiceWorks are gone, then
// removes what the hub created for it.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	m := s.member
	if !controllerutil.ContainsFinalizer(m, fleetv1alpha1.FinalizerMember) {
		return ctrl.Result{}, nil
	}
	works := &fleetv1alpha1.ServiceWorkList{}
	if err := r.Client.List(ctx, works, client.InNamespace(s.namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing ServiceWorks in %s: %w", s.namespace, err)
	}
	if len(works.Items) > 0 {
		names := make([]string, 0, len(works.Items))
		for _, w := range works.Items {
			n := w.Name
			if !w.DeletionTimestamp.IsZero() {
				n += " (deleting, finalizers " + fmt.Sprint(w.Finalizers) + ")"
			}
			names = append(names, n)
		}
		sort.Strings(names)
		s.reg.deleting, s.reg.blocking = true, names
		want := setRegisteredCondition(s.reg)
		if conditionChanged(m.Status.Conditions, want) {
			r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, "DeletionBlocked", "Delete",
				"Member %s is kept until %s in %s are removed", m.Name, describeWorks(names), s.namespace)
			log.Info("Member deletion waits for ServiceWorks", "member", klog.KObj(m), "count", len(names))
		}
		if err := r.patchStatus(ctx, s, false); err != nil {
			return ctrl.Result{}, err
		}
		// ServiceWork events requeue too; this is a safety net.
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}

	if s.reg.clusterRef != "" && r.SpokeImage != "" {
		r.uninstallSpoke(ctx, s)
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.namespace}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(m.Name)}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(m.Name)}},
	} {
		if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting %T %s of member %s: %w", o, o.GetName(), m.Name, err)
		}
	}
	before := m.DeepCopy()
	controllerutil.RemoveFinalizer(m, fleetv1alpha1.FinalizerMember)
	if err := r.Client.Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil // A stale cache: already done.
		}
		return ctrl.Result{}, fmt.Errorf("removing finalizer from MemberCluster %s: %w", m.Name, err)
	}
	r.installed.Delete(m.Name)
	r.Recorder.Eventf(m, nil, corev1.EventTypeNormal, "Deregistered", "Delete",
		"Removed hub namespace %s and the member's RBAC", s.namespace)
	log.Info("Member deregistered", "member", klog.KObj(m))
	return ctrl.Result{}, nil
}

// patchStatus applies the hub-owned status fields and the Unreachable taint
// when they differ from the member's. observedGeneration moves only when
// success is true.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope, success bool) error {
	m := s.member
	conds := []metav1.Condition{setRegisteredCondition(s.reg)}
	if s.avail != nil {
		conds = append(conds, s.avail.condition)
	} else if c := meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionAvailable); c != nil {
		conds = append(conds, *c)
	}

	// Taint first: placement reads it, and it must not lag the condition.
	if s.avail != nil {
		if err := r.applyTaint(ctx, m, s.avail.unreachable); err != nil {
			return err
		}
	}

	generation := m.Status.ObservedGeneration
	if success {
		generation = m.Generation
	}
	namespace := ""
	if m.Spec.Accepted {
		namespace = s.namespace
	}
	changed := generation != m.Status.ObservedGeneration || namespace != m.Status.Namespace
	for _, c := range conds {
		changed = changed || conditionChanged(m.Status.Conditions, c)
	}
	if !changed {
		return nil
	}

	// Keep lastTransitionTime when the status did not flip.
	merged := append([]metav1.Condition(nil), m.Status.Conditions...)
	wasAvailable := meta.FindStatusCondition(merged, fleetv1alpha1.ConditionAvailable)
	firstAvailable := s.avail != nil && s.avail.condition.Status == metav1.ConditionTrue &&
		(wasAvailable == nil || wasAvailable.Status == metav1.ConditionUnknown)
	out := make([]any, 0, len(conds))
	for _, c := range conds {
		meta.SetStatusCondition(&merged, c)
		cur := meta.FindStatusCondition(merged, c.Type)
		out = append(out, map[string]any{
			"type":               cur.Type,
			"status":             string(cur.Status),
			"reason":             cur.Reason,
			"message":            cur.Message,
			"lastTransitionTime": cur.LastTransitionTime.UTC().Format(time.RFC3339),
			"observedGeneration": m.Generation,
		})
	}
	status := map[string]any{"conditions": out}
	if namespace != "" {
		status["namespace"] = namespace
	}
	if generation != 0 {
		status["observedGeneration"] = generation
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fleetv1alpha1.GroupVersion.String(),
		"kind":       "MemberCluster",
		"metadata":   map[string]any{"name": m.Name},
		"status":     status,
	}}
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying status of MemberCluster %s: %w", m.Name, err)
	}
	if firstAvailable {
		r.observeRegistrationLatency(ctx, s)
	}
	return nil
}

// applyTaint adds or removes the Unreachable taint with server-side apply,
// owning only that list entry.
func (r *Reconciler) applyTaint(ctx context.Context, m *fleetv1alpha1.MemberCluster, unreachable bool) error {
	current := unreachableTaint(m)
	if (current != nil) == unreachable {
		return nil
	}
	spec := map[string]any{}
	if unreachable {
		spec["taints"] = []any{map[string]any{
			"key":       fleetv1alpha1.TaintKeyUnreachable,
			"effect":    string(fleetv1alpha1.TaintNoPlace),
			"reason":    fleetv1alpha1.ReasonUnreachable,
			"timeAdded": time.Now().UTC().Format(time.RFC3339),
		}}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fleetv1alpha1.GroupVersion.String(),
		"kind":       "MemberCluster",
		"metadata":   map[string]any{"name": m.Name},
	}}
	if len(spec) > 0 {
		u.Object["spec"] = spec
	}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying the unreachable taint of MemberCluster %s: %w", m.Name, err)
	}
	if unreachable {
		r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, fleetv1alpha1.ReasonUnreachable, "Taint",
			"Added taint %s:%s because the spoke's Lease expired", fleetv1alpha1.TaintKeyUnreachable, fleetv1alpha1.TaintNoPlace)
	} else {
		r.Recorder.Eventf(m, nil, corev1.EventTypeNormal, fleetv1alpha1.ReasonLeaseFresh, "Taint",
			"Removed taint %s because the spoke's Lease is fresh", fleetv1alpha1.TaintKeyUnreachable)
	}
	return nil
}

func (r *Reconciler) observeRegistrationLatency(ctx context.Context, s *scope) {
	if s.cluster == nil {
		return
	}
	start := controlPlaneInitializedTime(s.cluster)
	if start.IsZero() {
		return
	}
	d := time.Since(start)
	r.metrics.RegistrationLatency.Observe(d.Seconds())
	ctrl.LoggerFrom(ctx).Info("Member available", "member", klog.KObj(s.member), "sinceControlPlaneInitialized", d)
}

// controlPlaneInitializedTime is when the Cluster's ControlPlaneInitialized
// condition became True, or zero.
func controlPlaneInitializedTime(c *clusterv1.Cluster) time.Time {
	if cond := meta.FindStatusCondition(c.Status.Conditions, clusterv1.ClusterControlPlaneInitializedCondition); cond != nil &&
		cond.Status == metav1.ConditionTrue {
		return cond.LastTransitionTime.Time
	}
	return time.Time{}
}

// Watch mappings.

func memberOfNamespace(_ context.Context, o client.Object) []reconcile.Request {
	if m := MemberForNamespace(o.GetNamespace()); m != "" {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: m}}}
	}
	return nil
}

func (r *Reconciler) allMembers(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &fleetv1alpha1.MemberClusterList{}
	if err := r.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing MemberClusters for peers")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, m := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: m.Name}})
	}
	return out
}

func (r *Reconciler) membersOfClusterKey(ctx context.Context, namespace, name string) []reconcile.Request {
	list := &fleetv1alpha1.MemberClusterList{}
	if err := r.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing MemberClusters for a Cluster")
		return nil
	}
	var out []reconcile.Request
	for _, m := range list.Items {
		if ref := m.Spec.ClusterRef; ref != nil && ref.Namespace == namespace && ref.Name == name {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: m.Name}})
		}
	}
	return out
}

func (r *Reconciler) membersOfCluster(ctx context.Context, o client.Object) []reconcile.Request {
	return r.membersOfClusterKey(ctx, o.GetNamespace(), o.GetName())
}

func (r *Reconciler) membersOfKubeconfigSecret(ctx context.Context, o client.Object) []reconcile.Request {
	const suffix = "-kubeconfig"
	name := o.GetName()
	if len(name) <= len(suffix) || name[len(name)-len(suffix):] != suffix {
		return nil
	}
	return r.membersOfClusterKey(ctx, o.GetNamespace(), name[:len(name)-len(suffix)])
}

// probeEndpointChanged passes member events that change the peers lists.
func probeEndpointChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return true },
		DeleteFunc: func(event.DeleteEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*fleetv1alpha1.MemberCluster)
			n, ok2 := e.ObjectNew.(*fleetv1alpha1.MemberCluster)
			return ok1 && ok2 && (o.Status.ProbeEndpoint != n.Status.ProbeEndpoint ||
				o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// leaseMayChangeAvailability passes only the spoke Lease's events that can
// flip availability: creation, deletion, and renewals of a Lease that had
// gone stale. Routine renewals of a fresh Lease are filtered out; the
// Reconciler requeues itself for the moment a fresh Lease would expire.
func leaseMayChangeAvailability() predicate.Predicate {
	isSpoke := func(o client.Object) bool {
		return o.GetName() == LeaseName && MemberForNamespace(o.GetNamespace()) != ""
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return isSpoke(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return isSpoke(e.Object) },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			if !isSpoke(e.ObjectNew) {
				return false
			}
			o, ok1 := e.ObjectOld.(*coordinationv1.Lease)
			n, ok2 := e.ObjectNew.(*coordinationv1.Lease)
			if !ok1 || !ok2 {
				return true
			}
			stale := time.Since(leaseRenewTime(o)) > leaseDuration(o)
			return stale || leaseDuration(o) != leaseDuration(n)
		},
	}
}

// workDrainEvent passes ServiceWork events that matter to a deleting
// member: creation, deletion, and the start of a deletion.
func workDrainEvent() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero() ||
				len(e.ObjectOld.GetFinalizers()) != len(e.ObjectNew.GetFinalizers())
		},
	}
}

// hubKubeconfigFromSecret returns the kubeconfig stored in a hub-kubeconfig
// Secret.
func hubKubeconfigFromSecret(s *corev1.Secret) []byte { return s.Data[kubeconfig.SecretKey] }
