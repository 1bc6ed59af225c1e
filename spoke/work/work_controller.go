package work

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// Reconciler realises the ServiceWorks of one member.
type Reconciler struct {
	// Hub reads ServiceWorks and Secrets of HubNamespace and writes work
	// status and published credentials.
	Hub client.Client
	// Member reads and writes the member cluster, uncached.
	Member client.Client
	// MemberName is this member's name.
	MemberName string
	// HubNamespace is this member's hub namespace.
	HubNamespace string
	// Capabilities returns the member's current capabilities.
	Capabilities func() fleetv1alpha1.Capabilities
	// NodeAddress is reported as the host of NodePort exposures.
	NodeAddress string
	// ExposureSourceCIDRs may reach remote exposures (see render.Inputs).
	ExposureSourceCIDRs []string
}

// watchedKinds are the rendered kinds whose changes are watched for drift.
var watchedKinds = []client.Object{
	&corev1.Namespace{}, &corev1.Service{}, &corev1.Secret{}, &corev1.ConfigMap{}, &corev1.ResourceQuota{}, &corev1.LimitRange{},
	&appsv1.StatefulSet{}, &networkingv1.NetworkPolicy{}, &policyv1.PodDisruptionBudget{},
	&rbacv1.Role{}, &rbacv1.RoleBinding{}, &discoveryv1.EndpointSlice{},
}

// SetupWithManager registers the Reconciler with the hub-side manager mgr
// and watches rendered objects through member, whose cache should be
// restricted to objects with the servicework label (see MemberCacheOptions).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, member cluster.Cluster) error {
	switch {
	case r.Hub == nil:
		return errors.New("work: Hub must not be nil")
	case r.Member == nil:
		return errors.New("work: Member must not be nil")
	case r.MemberName == "" || r.HubNamespace == "":
		return errors.New("work: MemberName and HubNamespace must be set")
	case r.Capabilities == nil:
		return errors.New("work: Capabilities must not be nil")
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("servicework").
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		For(&fleetv1alpha1.ServiceWork{})
	for _, obj := range watchedKinds {
		b = b.WatchesRawSource(source.Kind(member.GetCache(), obj, handler.EnqueueRequestsFromMapFunc(r.objectToWork)))
	}
	return b.Complete(r)
}

// MemberCacheLabel is the label the member cache must be restricted to.
const MemberCacheLabel = fleetv1alpha1.LabelServiceWork

// objectToWork maps a rendered object to the works of this hub namespace
// whose label value it carries.
func (r *Reconciler) objectToWork(ctx context.Context, obj client.Object) []reconcile.Request {
	value := obj.GetLabels()[fleetv1alpha1.LabelServiceWork]
	if value == "" {
		return nil
	}
	works := &fleetv1alpha1.ServiceWorkList{}
	if err := r.Hub.List(ctx, works, client.InNamespace(r.HubNamespace)); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range works.Items {
		if render.WorkLabelValue(&works.Items[i]) == value {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&works.Items[i])})
		}
	}
	return reqs
}

// Reconcile renders, applies and reports one ServiceWork.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	w := &fleetv1alpha1.ServiceWork{}
	if err := r.Hub.Get(ctx, req.NamespacedName, w); err != nil {
		// A work missing from the cache is never a reason to delete.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	in, err := r.inputs(ctx, w)
	if err != nil {
		return ctrl.Result{}, err
	}
	st := &w.Status
	before := st.DeepCopy()
	defer func() {
		st.ObservedGeneration = w.Generation
		if equalStatus(before, st) {
			return
		}
		if err := r.applyStatus(ctx, w); err != nil {
			reterr = errors.Join(reterr, fmt.Errorf("updating ServiceWork status: %w", err))
		}
	}()

	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, w)
	}

	// Observe first, so that connection data found now feeds the binding
	// rendered below.
	obs, conn, err := r.observe(ctx, w, in)
	if err != nil {
		log.Error(err, "Observing the service failed")
	}
	in.Connection = conn

	res, err := render.Render(in)
	if err != nil {
		setCondition(w, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("rendering: %w", err))
	}
	results, conflicts, failed := r.applyAll(ctx, w, res.Objects)
	// While the binding waits for credentials its Secrets are not rendered;
	// keep the ones that exist rather than take them from running apps.
	pruned, perr := r.prune(ctx, w, res.Objects, len(res.Pending) > 0)
	results = append(results, pruned...)
	st.Objects = results
	if perr != nil {
		failed = append(failed, perr.Error())
	}

	setConflictCondition(w, conflicts)
	setAppliedCondition(w, conflicts, failed, res.Pending)
	if hasRole(w, fleetv1alpha1.RoleProvider) && !slices.Contains(w.Spec.Roles, fleetv1alpha1.RoleConsumer) && !colocated(w, r.MemberName) {
		if err := r.publish(ctx, w, conn); err != nil {
			return ctrl.Result{}, err
		}
	}
	r.setServingStatus(ctx, w, in, obs)
	if len(failed) > 0 {
		return ctrl.Result{}, fmt.Errorf("applying ServiceWork %s: %s", req.NamespacedName, strings.Join(failed, "; "))
	}
	return ctrl.Result{}, nil
}

// applyStatus writes the work's whole status with server-side apply as the
// spoke's field manager. The spoke owns the status, so the write does not
// depend on the resourceVersion read: the hub changing the spec or the
// finalizers meanwhile does not fail it, and a field the spoke stops
// setting (an endpoint that went away) is removed.
func (r *Reconciler) applyStatus(ctx context.Context, w *fleetv1alpha1.ServiceWork) error {
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&w.Status)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	u.SetGroupVersionKind(fleetv1alpha1.GroupVersion.WithKind("ServiceWork"))
	u.SetNamespace(w.Namespace)
	u.SetName(w.Name)
	return r.Hub.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(render.FieldManager), client.ForceOwnership)
}

// inputs gathers what Render needs from the live member cluster.
func (r *Reconciler) inputs(ctx context.Context, w *fleetv1alpha1.ServiceWork) (render.Inputs, error) {
	in := render.Inputs{
		Work:                w,
		Member:              r.MemberName,
		Capabilities:        r.Capabilities(),
		NodeAddress:         r.NodeAddress,
		ExposureSourceCIDRs: r.ExposureSourceCIDRs,
	}
	if in.NodeAddress == "" && hasRole(w, fleetv1alpha1.RoleProvider) && !colocated(w, r.MemberName) {
		addr, err := r.firstNodeAddress(ctx)
		if err != nil {
			return in, err
		}
		in.NodeAddress = addr
	}
	if !hasRole(w, fleetv1alpha1.RoleProvider) {
		return in, nil
	}
	ns := &corev1.Namespace{}
	switch err := r.Member.Get(ctx, client.ObjectKey{Name: render.PlatformNamespace(w.Spec.ServiceRef)}, ns); {
	case err == nil:
		in.Flavour = render.Flavour(ns.Annotations[render.AnnotationFlavour])
	case !apierrors.IsNotFound(err):
		return in, fmt.Errorf("reading platform namespace: %w", err)
	}
	key := render.GeneratedSecretName(w.Spec.ServiceRef)
	sec := &corev1.Secret{}
	switch err := r.Member.Get(ctx, key, sec); {
	case err == nil:
		in.GeneratedCredentials = sec.Data
	case !apierrors.IsNotFound(err):
		return in, fmt.Errorf("reading generated credentials %s: %w", key, err)
	}
	return in, nil
}

// firstNodeAddress is the InternalIP (else ExternalIP) of the first Ready
// node by name: the host of a NodePort exposure when --node-address is unset.
func (r *Reconciler) firstNodeAddress(ctx context.Context) (string, error) {
	nodes := &corev1.NodeList{}
	if err := r.Member.List(ctx, nodes); err != nil {
		return "", fmt.Errorf("listing nodes for a NodePort address: %w", err)
	}
	slices.SortFunc(nodes.Items, func(a, b corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return a.Address, nil
				}
			}
		}
	}
	return "", nil
}

// observe reads the provider's state and the connection data the consumer
// binding needs.
func (r *Reconciler) observe(ctx context.Context, w *fleetv1alpha1.ServiceWork, in render.Inputs) (*render.Observed, map[string][]byte, error) {
	getter := render.ClientGetter{Reader: r.Member}
	if !hasRole(w, fleetv1alpha1.RoleProvider) {
		// A remote consumer binds from the copy the hub made.
		if w.Spec.Provider == nil || w.Spec.Provider.CredentialsSecret == "" {
			return nil, nil, nil
		}
		sec := &corev1.Secret{}
		if err := r.Hub.Get(ctx, client.ObjectKey{Namespace: r.HubNamespace, Name: w.Spec.Provider.CredentialsSecret}, sec); err != nil {
			return nil, nil, client.IgnoreNotFound(err)
		}
		return nil, sec.Data, nil
	}
	obs, err := render.ProviderStatus(ctx, in, getter)
	if err != nil {
		return nil, nil, err
	}
	if obs.Endpoint == nil || obs.CredentialsSecret.Name == "" {
		return &obs, nil, nil
	}
	sec := &corev1.Secret{}
	if err := r.Member.Get(ctx, obs.CredentialsSecret, sec); err != nil {
		return &obs, nil, client.IgnoreNotFound(err)
	}
	conn, err := render.ConnectionData(in, sec.Data, *obs.Endpoint)
	if err != nil {
		return &obs, nil, err
	}
	return &obs, conn, nil
}

// publish writes the connection data for a remote consumer to the hub.
func (r *Reconciler) publish(ctx context.Context, w *fleetv1alpha1.ServiceWork, conn map[string][]byte) error {
	if conn == nil {
		return nil
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: r.HubNamespace,
			Name:      w.Name + ".published",
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
		if err := r.Hub.Create(ctx, sec); err != nil {
			return fmt.Errorf("publishing credentials: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reading published credentials: %w", err)
	case !mapsEqual(existing.Data, conn):
		existing.Data = conn
		if err := r.Hub.Update(ctx, existing); err != nil {
			return fmt.Errorf("updating published credentials: %w", err)
		}
	}
	w.Status.CredentialsSecret = sec.Name
	return nil
}

// setServingStatus sets Available, Degraded, the endpoint and the ready
// replicas.
func (r *Reconciler) setServingStatus(ctx context.Context, w *fleetv1alpha1.ServiceWork, in render.Inputs, obs *render.Observed) {
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
			w.Status.ReadyReplicas = obs.ReadyReplicas
			if !consumer {
				w.Status.Endpoint = obs.Endpoint
			}
		}
		want := w.Spec.Service.Replicas
		if obs != nil && obs.ReadyReplicas > 0 && obs.ReadyReplicas < want {
			setCondition(w, fleetv1alpha1.ConditionDegraded, metav1.ConditionTrue, "ReplicasNotReady",
				fmt.Sprintf("%d of %d replicas ready", obs.ReadyReplicas, want))
		} else {
			setCondition(w, fleetv1alpha1.ConditionDegraded, metav1.ConditionFalse, "AsExpected", "")
		}
	}
	if consumer {
		bound, bmsg, err := render.BindingStatus(ctx, in, render.ClientGetter{Reader: r.Member})
		if err != nil {
			bound, bmsg = false, err.Error()
		}
		if bound {
			w.Status.Endpoint = &fleetv1alpha1.Endpoint{
				Host:       render.BindingServiceName(w.Spec.ServiceRef),
				Port:       r.bindingPort(ctx, w),
				SecretName: render.BindingSecretName(w.Spec.ServiceRef),
			}
		} else {
			w.Status.Endpoint = nil
			if !provider || available {
				available, msg = false, bmsg
			}
		}
	}
	if applied := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionApplied); available && (applied == nil || applied.Status != metav1.ConditionTrue) {
		available, msg = false, "Not every object was applied"
	}
	if available {
		setCondition(w, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonEngineReady, "")
	} else {
		setCondition(w, fleetv1alpha1.ConditionAvailable, metav1.ConditionFalse, fleetv1alpha1.ReasonEngineNotReady, msg)
	}
}

// bindingPort is the port of the consumer's binding Service, read from the
// Service in the first consumer namespace.
func (r *Reconciler) bindingPort(ctx context.Context, w *fleetv1alpha1.ServiceWork) int32 {
	svc := &corev1.Service{}
	key := client.ObjectKey{Namespace: w.Spec.Consumer.Namespaces[0], Name: render.BindingServiceName(w.Spec.ServiceRef)}
	if err := r.Member.Get(ctx, key, svc); err != nil || len(svc.Spec.Ports) == 0 {
		return 0
	}
	return svc.Spec.Ports[0].Port
}

func hasRole(w *fleetv1alpha1.ServiceWork, role fleetv1alpha1.WorkRole) bool {
	return slices.Contains(w.Spec.Roles, role)
}

func colocated(w *fleetv1alpha1.ServiceWork, member string) bool {
	return w.Spec.Consumer.Cluster == member
}

func setCondition(w *fleetv1alpha1.ServiceWork, t string, s metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{
		Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: w.Generation,
	})
}

func mapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}
