package registration

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
)

// FieldManager applies the spec of members registered from CAPI.
const FieldManager = "berth-hub-registration"

// Event reasons recorded on Clusters, beside the condition reasons
// KubeconfigMissing and KubeconfigInvalid.
const (
	// EventInvalidMemberName means the member-name annotation is unusable.
	EventInvalidMemberName = "InvalidMemberName"
	// EventInvalidRole means the role label is unusable.
	EventInvalidRole = "InvalidRole"
	// EventNameConflict means another member already has the name.
	EventNameConflict = "NameConflict"
	// EventRegistered means a member was created for the Cluster.
	EventRegistered = "Registered"
)

// Reconciler registers Cluster API Clusters as MemberClusters; see the
// package documentation.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the hub.
	Client client.Client
	// Recorder records Events on Clusters.
	Recorder events.EventRecorder
	// MaxConcurrentReconciles defaults to 4.
	MaxConcurrentReconciles int
}

// SetupWithManager checks the Reconciler's dependencies and starts watching
// Clusters, their kubeconfig Secrets, and deletions of their members.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		return errors.New("registration.Reconciler: Client must not be nil")
	}
	if r.Recorder == nil {
		return errors.New("registration.Reconciler: Recorder must not be nil")
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 4
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&clusterv1.Cluster{}).
		Named("registration").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(clusterOfKubeconfigSecret)).
		Watches(&fleetv1alpha1.MemberCluster{}, handler.EnqueueRequestsFromMapFunc(clusterOfMember),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				UpdateFunc:  func(event.UpdateEvent) bool { return false },
				DeleteFunc:  func(event.DeleteEvent) bool { return true },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		Complete(r)
}

// Reconcile registers one Cluster, or deletes the members of a Cluster that
// is being deleted or is gone.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	cluster := &clusterv1.Cluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, r.deleteMembers(ctx, req.Namespace, req.Name, "")
		}
		return ctrl.Result{}, fmt.Errorf("getting Cluster %s: %w", req.NamespacedName, err)
	}
	if !cluster.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.deleteMembers(ctx, cluster.Namespace, cluster.Name, "")
	}
	if !ControlPlaneInitialized(cluster) {
		log.V(1).Info("Waiting for the control plane to be initialized", "cluster", klog.KObj(cluster))
		return ctrl.Result{}, nil
	}

	name, err := MemberName(cluster)
	if err != nil {
		r.warn(cluster, EventInvalidMemberName, "%v", err)
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	role, err := MemberRole(cluster)
	if err != nil {
		r.warn(cluster, EventInvalidRole, "%v", err)
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	if err := r.checkKubeconfig(ctx, cluster); err != nil {
		return ctrl.Result{}, err
	}

	existing := &fleetv1alpha1.MemberCluster{}
	err = r.Client.Get(ctx, client.ObjectKey{Name: name}, existing)
	switch {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("getting MemberCluster %s: %w", name, err)
	case !refersTo(existing, cluster):
		owner := "a manual join"
		if ref := existing.Spec.ClusterRef; ref != nil {
			owner = "Cluster " + ref.Namespace + "/" + ref.Name
		}
		err := fmt.Errorf("member name %s is already used by %s; set annotation %s to choose another", name, owner, fleetv1alpha1.AnnotationMemberName)
		r.warn(cluster, EventNameConflict, "%v", err)
		return ctrl.Result{}, reconcile.TerminalError(err)
	case !existing.DeletionTimestamp.IsZero():
		// Wait until the old member drained; its deletion requeues us.
		log.Info("Member of this name is still being deleted", "member", name, "cluster", klog.KObj(cluster))
		return ctrl.Result{}, nil
	}

	if err := r.applyMember(ctx, cluster, name, role); err != nil {
		return ctrl.Result{}, err
	}
	if existing == nil {
		r.Recorder.Eventf(cluster, nil, corev1.EventTypeNormal, EventRegistered, "Register",
			"Registered as MemberCluster %s with role %s", name, role)
		log.Info("Registered Cluster", "cluster", klog.KObj(cluster), "member", name, "role", role)
	}
	// A renamed member leaves its old one behind: remove it.
	return ctrl.Result{}, r.deleteMembers(ctx, cluster.Namespace, cluster.Name, name)
}

// ControlPlaneInitialized reports whether the Cluster's control plane
// accepts requests, from status.initialization or the condition.
func ControlPlaneInitialized(c *clusterv1.Cluster) bool {
	if ptr.Deref(c.Status.Initialization.ControlPlaneInitialized, false) {
		return true
	}
	return meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1.ClusterControlPlaneInitializedCondition)
}

// checkKubeconfig records an Event and returns an error (retried with
// backoff) when the Cluster's kubeconfig Secret is missing or unusable.
func (r *Reconciler) checkKubeconfig(ctx context.Context, cluster *clusterv1.Cluster) error {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: cluster.Namespace, Name: kubeconfig.CAPISecretName(cluster.Name)}
	if err := r.Client.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			r.warn(cluster, fleetv1alpha1.ReasonKubeconfigMissing,
				"Secret %s does not exist; the Cluster is registered once it does", key)
			return fmt.Errorf("kubeconfig Secret %s of Cluster %s does not exist", key, klog.KObj(cluster))
		}
		return fmt.Errorf("getting Secret %s: %w", key, err)
	}
	if _, err := kubeconfig.FromCAPISecret(secret); err != nil {
		r.warn(cluster, fleetv1alpha1.ReasonKubeconfigInvalid, "%v", err)
		return fmt.Errorf("kubeconfig Secret of Cluster %s is unusable: %w", klog.KObj(cluster), err)
	}
	return nil
}

func (r *Reconciler) warn(cluster *clusterv1.Cluster, reason, format string, args ...any) {
	r.Recorder.Eventf(cluster, nil, corev1.EventTypeWarning, reason, "Register", format, args...)
}

func refersTo(m *fleetv1alpha1.MemberCluster, c *clusterv1.Cluster) bool {
	ref := m.Spec.ClusterRef
	return ref != nil && ref.Namespace == c.Namespace && ref.Name == c.Name
}

// applyMember applies the registration's fields of the member.
func (r *Reconciler) applyMember(ctx context.Context, cluster *clusterv1.Cluster, name string, role fleetv1alpha1.MemberRole) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fleetv1alpha1.GroupVersion.String(),
		"kind":       "MemberCluster",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"role":       string(role),
			"accepted":   true,
			"clusterRef": map[string]any{"namespace": cluster.Namespace, "name": cluster.Name},
		},
	}}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying MemberCluster %s for Cluster %s: %w", name, klog.KObj(cluster), err)
	}
	return nil
}

// deleteMembers deletes the members of a Cluster, except keep.
func (r *Reconciler) deleteMembers(ctx context.Context, namespace, name, keep string) error {
	list := &fleetv1alpha1.MemberClusterList{}
	if err := r.Client.List(ctx, list); err != nil {
		return fmt.Errorf("listing MemberClusters: %w", err)
	}
	var errs []error
	for i := range list.Items {
		m := &list.Items[i]
		ref := m.Spec.ClusterRef
		if ref == nil || ref.Namespace != namespace || ref.Name != name || m.Name == keep || !m.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Client.Delete(ctx, m, client.Preconditions{UID: ptr.To(m.UID)}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting MemberCluster %s: %w", m.Name, err))
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleting member of a deleted Cluster", "member", m.Name, "cluster", namespace+"/"+name)
	}
	return errors.Join(errs...)
}

func clusterOfKubeconfigSecret(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := strings.CutSuffix(o.GetName(), "-kubeconfig")
	if !ok || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}

func clusterOfMember(_ context.Context, o client.Object) []reconcile.Request {
	m, ok := o.(*fleetv1alpha1.MemberCluster)
	if !ok || m.Spec.ClusterRef == nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: m.Spec.ClusterRef.Namespace, Name: m.Spec.ClusterRef.Name}}}
}
