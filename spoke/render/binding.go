package render

import (
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// endpointSliceManager is the managed-by value of the EndpointSlices berth
// writes, so the EndpointSlice controllers leave them alone.
const endpointSliceManager = "berth-spoke"

// standardPorts are the ports a remote binding Service listens on, whatever
// port the provider exposes (a NodePort is remapped by the EndpointSlice).
// Remote Redis is always reached directly, never through sentinels.
var standardPorts = map[fleetv1alpha1.Engine]int32{
	fleetv1alpha1.EnginePostgreSQL: 5432,
	fleetv1alpha1.EngineRedis:      6379,
	fleetv1alpha1.EngineRabbitMQ:   5672,
}

// bindingTarget is where a consumer namespace's Service leads.
type bindingTarget struct {
	// externalName, when set, makes the Service an alias to this DNS name.
	externalName string
	// ip, when set, makes the Service selector-less with an EndpointSlice
	// to ip:targetPort.
	ip         string
	targetPort int32
	// port the Service listens on.
	port int32
}

// binding renders the consumer side: in every consumer namespace a Service
// named after the ManagedService and a Secret "<name>-credentials", so the
// app finds the same names whatever the placement.
//   - co-located: the Service is an ExternalName alias to the engine's
//     Service in the platform namespace;
//   - remote, ClusterMesh (the provider reported the global service host and
//     this cluster has ClusterMesh): a stub global Service with the provider
//     exposure's name in the same platform namespace, and the alias to it;
//   - remote, IP address: a selector-less Service and an EndpointSlice to the
//     provider's address, listening on the engine's standard port;
//   - remote, hostname (a cloud LoadBalancer): an ExternalName alias to the
//     hostname. kube-proxy does not program FQDN EndpointSlices, so a
//     selector-less Service could not carry it.
//
// The Secrets hold the normalised connection data with host and port set to
// the binding Service. They are left out, and listed as pending, until
// Inputs.Connection is given.
func (s *service) binding() ([]*unstructured.Unstructured, []string, error) {
	var out []*unstructured.Unstructured
	var pending []string
	target, pre, err := s.bindingTarget()
	if err != nil {
		return nil, nil, err
	}
	if target == nil {
		for _, ns := range s.consumerNamespaces() {
			pending = append(pending, fmt.Sprintf("Service %s/%s: waiting for the provider's endpoint (spec.provider.endpoint)", ns, BindingServiceName(s.ref)))
		}
	}
	out = append(out, pre...)
	for _, ns := range s.consumerNamespaces() {
		if target != nil {
			objs, err := s.bindingService(ns, *target)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, objs...)
		}
		if s.in.Connection == nil || target == nil {
			pending = append(pending, fmt.Sprintf("Secret %s/%s: waiting for the provider's credentials", ns, BindingSecretName(s.ref)))
			continue
		}
		data, err := withAddress(s.in.Connection, s.serviceHost(BindingServiceName(s.ref), ns), target.port)
		if err != nil {
			return nil, nil, err
		}
		u, err := toUnstructured(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: BindingSecretName(s.ref), Namespace: ns},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, u)
	}
	return out, pending, nil
}

// bindingTarget resolves where the binding Services lead, and the objects
// that must exist first (the ClusterMesh stub). It returns a nil target while
// a remote provider's endpoint is unknown.
func (s *service) bindingTarget() (*bindingTarget, []*unstructured.Unstructured, error) {
	if s.provider && BindsLocally(s.work, s.in.Member) {
		name, port := s.driver.clientService(s)
		return &bindingTarget{externalName: s.serviceHost(name, s.namespace), port: port}, nil, nil
	}
	ep := s.work.Spec.Provider.Endpoint
	if ep == nil || ep.Host == "" {
		return nil, nil, nil
	}
	if ep.Port < 1 || ep.Port > 65535 {
		return nil, nil, fmt.Errorf("spec.provider.endpoint.port %d is not a TCP port", ep.Port)
	}
	if ep.Host == GlobalServiceHost(s.ref) {
		if !s.in.Capabilities.ClusterMesh {
			return nil, nil, fmt.Errorf("spec.provider.endpoint.host %q is a ClusterMesh global service, but this member does not report clusterMesh", ep.Host)
		}
		stub, err := s.globalServiceStub(ep.Port)
		if err != nil {
			return nil, nil, err
		}
		return &bindingTarget{externalName: s.serviceHost(ExposureServiceName(s.ref), s.namespace), port: ep.Port}, stub, nil
	}
	if ip := net.ParseIP(ep.Host); ip != nil {
		port := ep.Port
		if p, ok := standardPorts[s.remoteEngine()]; ok {
			port = p
		}
		return &bindingTarget{ip: ip.String(), targetPort: ep.Port, port: port}, nil, nil
	}
	return &bindingTarget{externalName: ep.Host, port: ep.Port}, nil, nil
}

// BindsLocally reports whether a work's consumer binding leads to the
// service of member itself: the work carries role Provider and its
// spec.provider is unset or names member. While a service moves to its
// consumer's cluster the hub gives the consumer's work both roles but keeps
// spec.provider on the old provider until the move is acknowledged; the new
// provider then runs here while the binding stays remote, through
// spec.provider.endpoint and the credentials copy, as for a consumer-only
// work.
func BindsLocally(w *fleetv1alpha1.ServiceWork, member string) bool {
	p := w.Spec.Provider
	return hasRole(w, fleetv1alpha1.RoleProvider) && (p == nil || p.Cluster == "" || p.Cluster == member)
}

// remoteEngine is the engine of a consumer-only work, from spec.service when
// the hub set it, else from the connection data.
func (s *service) remoteEngine() fleetv1alpha1.Engine {
	if t := s.work.Spec.Service; t != nil {
		return t.Engine
	}
	return fleetv1alpha1.Engine(s.in.Connection[KeyEngine])
}

// globalServiceStub is the consumer's half of a Cilium global service: the
// platform namespace and a selector-less Service of the same name as the
// provider's exposure, to which ClusterMesh adds the remote backends.
func (s *service) globalServiceStub(port int32) ([]*unstructured.Unstructured, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: s.namespace, Labels: map[string]string{LabelPlatformOwned: "true"},
	}}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: ExposureServiceName(s.ref), Namespace: s.namespace,
			Labels:      map[string]string{LabelPlatformOwned: "true"},
			Annotations: map[string]string{CiliumGlobalServiceAnnotation: "true"},
		},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{
			Name: exposurePortName, Port: port, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP,
		}}},
	}
	return convertAll(ns, svc)
}

// bindingService renders the Service (and EndpointSlice) in one consumer
// namespace.
func (s *service) bindingService(ns string, t bindingTarget) ([]*unstructured.Unstructured, error) {
	name := BindingServiceName(s.ref)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if t.externalName != "" {
		svc.Spec = corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: t.externalName,
			Ports: []corev1.ServicePort{{Name: exposurePortName, Port: t.port, Protocol: corev1.ProtocolTCP}},
		}
		return convertAll(svc)
	}
	svc.Spec = corev1.ServiceSpec{
		Type: corev1.ServiceTypeClusterIP,
		Ports: []corev1.ServicePort{{
			Name: exposurePortName, Port: t.port, TargetPort: intstr.FromInt32(t.targetPort), Protocol: corev1.ProtocolTCP,
		}},
	}
	addressType := discoveryv1.AddressTypeIPv4
	if net.ParseIP(t.ip).To4() == nil {
		addressType = discoveryv1.AddressTypeIPv6
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: name + "-remote", Namespace: ns,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: name,
				discoveryv1.LabelManagedBy:   endpointSliceManager,
			},
		},
		AddressType: addressType,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{t.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		}},
		Ports: []discoveryv1.EndpointPort{{
			Name: ptr.To(exposurePortName), Port: ptr.To(t.targetPort), Protocol: ptr.To(corev1.ProtocolTCP),
		}},
	}
	return convertAll(svc, slice)
}

// convertAll converts typed objects to unstructured ones.
func convertAll(objs ...runtime.Object) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
