package work

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// publishedSuffix names the Secret a provider publishes for a remote
// consumer: "<work>.published" in its hub namespace.
const publishedSuffix = ".published"

// StatusReconciler feeds the service's state back: it observes the engine
// and the binding through the member caches, publishes the connection data
// of a provider for a remote consumer, and reports Available, Degraded,
// the endpoint, the ready replicas and the published Secret. It writes
// only what changed.
type StatusReconciler struct {
	*base
}

// Reconcile reports one ServiceWork's serving status.
func (r *StatusReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	w := &fleetv1alpha1.ServiceWork{}
	if err := r.Hub.Get(ctx, req.NamespacedName, w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionApplied) == nil {
		// Nothing was applied yet: the apply controller's first status
		// write wakes this controller (statusWorkPredicate).
		return ctrl.Result{}, nil
	}
	r.watches.ensure(ctx, r.Capabilities())
	in, err := r.inputs(ctx, w)
	if err != nil {
		return ctrl.Result{}, err
	}
	obs, conn, err := r.observe(ctx, w, in)
	if err != nil {
		log.Error(err, "Observing the service failed")
	}
	st := w.Status.DeepCopy()
	if hasRole(w, fleetv1alpha1.RoleProvider) && !hasRole(w, fleetv1alpha1.RoleConsumer) && !colocated(w, r.MemberName) {
		name, err := r.publish(ctx, w, conn)
		if err != nil {
			return ctrl.Result{}, err
		}
		if name != "" {
			st.CredentialsSecret = name
		}
	}
	r.setServingStatus(ctx, w, st, in, obs)
	if err := r.writeStatus(ctx, w, st); err != nil {
		return r.statusResult(err)
	}
	return ctrl.Result{RequeueAfter: r.resync()}, nil
}

// publish writes the connection data for a remote consumer to the hub when
// it differs from what is published, and returns the Secret's name (empty
// while there is nothing to publish).
func (r *StatusReconciler) publish(ctx context.Context, w *fleetv1alpha1.ServiceWork, conn map[string][]byte) (string, error) {
	if conn == nil {
		return "", nil
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: r.HubNamespace,
			Name:      w.Name + publishedSuffix,
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(w.Spec.ServiceRef.Namespace, w.Spec.ServiceRef.Name),
			},
		},
		Data: conn,
	}
	existing := &corev1.Secret{}
	err := r.Hub.Get(ctx, client.ObjectKeyFromObject(sec), existing)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Hub.Create(ctx, sec); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("publishing credentials: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("reading published credentials: %w", err)
	case !maps.EqualFunc(existing.Data, conn, func(a, b []byte) bool { return string(a) == string(b) }):
		existing.Data = conn
		if err := r.Hub.Update(ctx, existing); err != nil {
			return "", fmt.Errorf("updating published credentials: %w", err)
		}
	}
	return sec.Name, nil
}

// setServingStatus sets Available, Degraded, the endpoint and the ready
// replicas.
func (r *StatusReconciler) setServingStatus(ctx context.Context, w *fleetv1alpha1.ServiceWork, st *fleetv1alpha1.ServiceWorkStatus, in render.Inputs, obs *render.Observed) {
	provider := hasRole(w, fleetv1alpha1.RoleProvider)
	consumer := hasRole(w, fleetv1alpha1.RoleConsumer)
	available, msg := true, ""
	if provider {
		switch {
		case obs == nil:
			available, msg = false, "The service's state could not be read yet"
		case !obs.Ready:
			available, msg = false, obs.Message
		}
		if obs != nil {
			st.ReadyReplicas = obs.ReadyReplicas
			if !consumer {
				st.Endpoint = obs.Endpoint
			}
		}
		want := w.Spec.Service.Replicas
		if obs != nil && obs.ReadyReplicas > 0 && obs.ReadyReplicas < want {
			setCondition(w, st, fleetv1alpha1.ConditionDegraded, metav1.ConditionTrue, "ReplicasNotReady",
				fmt.Sprintf("%d of %d replicas ready", obs.ReadyReplicas, want))
		} else {
			setCondition(w, st, fleetv1alpha1.ConditionDegraded, metav1.ConditionFalse, "AsExpected", "")
		}
	}
	if consumer {
		bound, bmsg, err := render.BindingStatus(ctx, in, cacheGetter{b: r.base})
		if err != nil {
			bound, bmsg = false, err.Error()
		}
		if bound {
			st.Endpoint = &fleetv1alpha1.Endpoint{
				Host:       render.BindingServiceName(w.Spec.ServiceRef),
				Port:       r.bindingPort(ctx, w),
				SecretName: render.BindingSecretName(w.Spec.ServiceRef),
			}
		} else {
			st.Endpoint = nil
			if !provider || available {
				available, msg = false, bmsg
			}
		}
	}
	if applied := meta.FindStatusCondition(st.Conditions, fleetv1alpha1.ConditionApplied); available && (applied == nil || applied.Status != metav1.ConditionTrue) {
		available, msg = false, "Not every object was applied"
	}
	if available {
		setCondition(w, st, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonEngineReady, "")
	} else {
		setCondition(w, st, fleetv1alpha1.ConditionAvailable, metav1.ConditionFalse, fleetv1alpha1.ReasonEngineNotReady, msg)
	}
}

// bindingPort is the port of the consumer's binding Service, read from the
// Service in the first consumer namespace.
func (r *StatusReconciler) bindingPort(ctx context.Context, w *fleetv1alpha1.ServiceWork) int32 {
	svc := &corev1.Service{}
	u, err := cacheGetter{b: r.base}.Get(ctx, gvkService, w.Spec.Consumer.Namespaces[0], render.BindingServiceName(w.Spec.ServiceRef))
	if err != nil {
		return 0
	}
	if err := runtimeFromUnstructured(u.Object, svc); err != nil || len(svc.Spec.Ports) == 0 {
		return 0
	}
	return svc.Spec.Ports[0].Port
}
