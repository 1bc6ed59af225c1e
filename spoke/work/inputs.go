package work

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// errStatusConflict means the work changed since it was read; the status
// is computed again.
var errStatusConflict = errors.New("the ServiceWork changed since it was read")

func metav1ObjectMetaName(name, rv string, uid types.UID) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, ResourceVersion: rv, UID: uid}
}

func hasRole(w *fleetv1alpha1.ServiceWork, role fleetv1alpha1.WorkRole) bool {
	return slices.Contains(w.Spec.Roles, role)
}

func colocated(w *fleetv1alpha1.ServiceWork, member string) bool {
	return w.Spec.Consumer.Cluster == member
}

// cacheGetter is a render.Getter over the member caches: the objects
// labelled for berth, then the Zalando operator's children, which carry
// none of berth's labels.
type cacheGetter struct{ b *base }

// Get implements render.Getter.
func (g cacheGetter) Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	u := newObject(gvk)
	err := g.b.memberCache.Get(ctx, key, u)
	if apierrors.IsNotFound(err) && (gvk == gvkStatefulSet || gvk == gvkSecret) && g.b.watches.zalando() {
		u = newObject(gvk)
		err = g.b.operatorCache.Get(ctx, key, u)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// inputs gathers what Render needs from the member cache, and the live
// platform Namespace of a provider (nil when it does not exist yet).
func (b *base) inputs(ctx context.Context, w *fleetv1alpha1.ServiceWork) (render.Inputs, error) {
	b.index.setLabel(render.WorkLabelValue(w), client.ObjectKeyFromObject(w))
	if w.Spec.Provider != nil && w.Spec.Provider.CredentialsSecret != "" {
		b.index.setSecret(w.Spec.Provider.CredentialsSecret, client.ObjectKeyFromObject(w))
	}
	in := render.Inputs{
		Work:                 w,
		Member:               b.MemberName,
		Capabilities:         b.Capabilities(),
		NodeAddress:          b.NodeAddress,
		ExposureSourceCIDRs:  b.ExposureSourceCIDRs,
		MonitoringNamespaces: b.MonitoringNamespaces,
	}
	if b.OperatorNamespaces != nil {
		in.OperatorNamespaces = b.OperatorNamespaces()
	}
	if in.NodeAddress == "" && hasRole(w, fleetv1alpha1.RoleProvider) && !colocated(w, b.MemberName) {
		addr, err := b.firstNodeAddress(ctx)
		if err != nil {
			return in, err
		}
		in.NodeAddress = addr
	}
	if !hasRole(w, fleetv1alpha1.RoleProvider) {
		return in, nil
	}
	// The namespace may be retained (unlabelled, so not in the cache):
	// its flavour still pins the service's.
	ns, err := b.platformNamespace(ctx, w)
	if err != nil {
		return in, err
	}
	if ns != nil && ns.GetName() == render.LegacyPlatformNamespace(w.Spec.ServiceRef) {
		in.PlatformNamespace = ns.GetName()
	}
	if ns != nil && (render.ServiceOwnerMatches(ns.GetAnnotations()[render.AnnotationServiceOwner], w.Spec.ServiceRef) ||
		retainedFor(w, ns) || legacyNamespaceOf(w, ns)) {
		in.Flavour = render.Flavour(ns.GetAnnotations()[render.AnnotationFlavour])
	}
	key := render.GeneratedSecretName(w.Spec.ServiceRef)
	if in.PlatformNamespace != "" {
		key.Namespace = in.PlatformNamespace
	}
	sec := newObject(gvkSecret)
	switch err := b.memberCache.Get(ctx, key, sec); {
	case err == nil:
		in.GeneratedCredentials = secretData(sec)
	case !apierrors.IsNotFound(err):
		return in, fmt.Errorf("reading generated credentials %s: %w", key, err)
	}
	return in, nil
}

// platformNamespace reads the live platform Namespace of a provider work,
// nil when it does not exist yet. That is render.PlatformNamespace, unless
// it does not exist and render.LegacyPlatformNamespace, the namespace older
// spokes created, does and was made by berth for this very work (see
// legacyNamespaceOf): the data there is kept in use rather than left behind
// for a new, empty namespace.
func (b *base) platformNamespace(ctx context.Context, w *fleetv1alpha1.ServiceWork) (*unstructured.Unstructured, error) {
	name := render.PlatformNamespace(w.Spec.ServiceRef)
	ns, err := b.getLive(ctx, gvkNamespace, "", name)
	if err != nil {
		return nil, fmt.Errorf("reading the platform namespace %s: %w", name, err)
	}
	legacy := render.LegacyPlatformNamespace(w.Spec.ServiceRef)
	if ns != nil || legacy == name {
		return ns, nil
	}
	old, err := b.getLive(ctx, gvkNamespace, "", legacy)
	if err != nil {
		return nil, fmt.Errorf("reading the legacy platform namespace %s: %w", legacy, err)
	}
	if old != nil && legacyNamespaceOf(w, old) {
		return old, nil
	}
	return nil, nil
}

// legacyNamespaceOf reports whether ns is the legacy platform namespace an
// older spoke created for w: named render.LegacyPlatformNamespace, labelled
// with w's fleet.berth.io/servicework and fleet.berth.io/platform-owned=true,
// and carrying the flavour annotation it stamped on every platform
// Namespace. A namespace of another work, or one berth did not create, never
// qualifies.
func legacyNamespaceOf(w *fleetv1alpha1.ServiceWork, ns *unstructured.Unstructured) bool {
	labels := ns.GetLabels()
	return ns.GetName() == render.LegacyPlatformNamespace(w.Spec.ServiceRef) &&
		labels[fleetv1alpha1.LabelServiceWork] == render.WorkLabelValue(w) &&
		labels[render.LabelPlatformOwned] == "true" &&
		ns.GetAnnotations()[render.AnnotationFlavour] != ""
}

// secretData decodes the data of an unstructured Secret.
func secretData(u *unstructured.Unstructured) map[string][]byte {
	s := &corev1.Secret{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
		return nil
	}
	return s.Data
}

// firstNodeAddress is the InternalIP (else ExternalIP) of the first node by
// name: the host of a NodePort exposure when --node-address is unset.
func (b *base) firstNodeAddress(ctx context.Context) (string, error) {
	nodes := &corev1.NodeList{}
	if err := b.memberCache.List(ctx, nodes); err != nil {
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
// binding needs, all from the caches.
func (b *base) observe(ctx context.Context, w *fleetv1alpha1.ServiceWork, in render.Inputs) (*render.Observed, map[string][]byte, error) {
	// A remote consumer binds from the copy the hub made.
	hubCopy := func() (map[string][]byte, error) {
		if w.Spec.Provider == nil || w.Spec.Provider.CredentialsSecret == "" {
			return nil, nil
		}
		sec := &corev1.Secret{}
		if err := b.Hub.Get(ctx, client.ObjectKey{Namespace: b.HubNamespace, Name: w.Spec.Provider.CredentialsSecret}, sec); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return sec.Data, nil
	}
	if !hasRole(w, fleetv1alpha1.RoleProvider) {
		conn, err := hubCopy()
		return nil, conn, err
	}
	getter := cacheGetter{b: b}
	obs, err := render.ProviderStatus(ctx, in, getter)
	if err != nil {
		return nil, nil, err
	}
	if hasRole(w, fleetv1alpha1.RoleConsumer) && !render.BindsLocally(w, b.MemberName) {
		// Moving here: the new provider runs, the apps keep the old one.
		conn, err := hubCopy()
		return &obs, conn, err
	}
	if obs.Endpoint == nil || obs.CredentialsSecret.Name == "" {
		return &obs, nil, nil
	}
	sec, err := getter.Get(ctx, gvkSecret, obs.CredentialsSecret.Namespace, obs.CredentialsSecret.Name)
	if err != nil {
		return &obs, nil, client.IgnoreNotFound(err)
	}
	conn, err := render.ConnectionData(in, secretData(sec), *obs.Endpoint)
	if err != nil {
		return &obs, nil, err
	}
	return &obs, conn, nil
}

func setCondition(w *fleetv1alpha1.ServiceWork, st *fleetv1alpha1.ServiceWorkStatus, t string, s metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: w.Generation,
	})
}

// writeStatus writes st as the work's status when it differs semantically
// from the status w was read with. The write is a server-side apply of the
// whole status by the spoke's field manager, guarded by w's
// resourceVersion: the three controllers each change their own part of the
// status, and a write computed from a stale read fails (errStatusConflict)
// instead of undoing another controller's part.
func (b *base) writeStatus(ctx context.Context, w *fleetv1alpha1.ServiceWork, st *fleetv1alpha1.ServiceWorkStatus) error {
	if apiequality.Semantic.DeepEqual(&w.Status, st) {
		return nil
	}
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	u.SetGroupVersionKind(fleetv1alpha1.GroupVersion.WithKind("ServiceWork"))
	u.SetNamespace(w.Namespace)
	u.SetName(w.Name)
	u.SetResourceVersion(w.ResourceVersion)
	err = b.Hub.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(render.FieldManager), client.ForceOwnership)
	switch {
	case apierrors.IsConflict(err):
		return errStatusConflict
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("writing the status of ServiceWork %s/%s: %w", w.Namespace, w.Name, err)
	}
	return nil
}

// runtimeFromUnstructured converts an unstructured object's content.
func runtimeFromUnstructured(u map[string]any, out any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u, out)
}
