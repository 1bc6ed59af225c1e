package render

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// exposurePortName names the port of exposure and binding Services.
const exposurePortName = "client"

// exposureService renders the Service that makes the engine reachable from
// the remote consumer cluster. It selects the pods that serve clients (the
// primary or master where there is one) on the engine's own port:
//   - LoadBalancer, restricted to the ExposureSourceCIDRs when given;
//   - NodePort;
//   - a ClusterIP Service annotated as a Cilium global service, whose
//     backends ClusterMesh shares with the same-named stub Service the
//     consumer renders.
func (s *service) exposureService() (*unstructured.Unstructured, error) {
	sel, port := s.driver.remoteTarget(s)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ExposureServiceName(s.ref), Namespace: s.namespace},
		Spec: corev1.ServiceSpec{
			Selector: sel,
			Ports: []corev1.ServicePort{{
				Name: exposurePortName, Port: port, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	switch s.exposure {
	case ExposureLoadBalancer:
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.LoadBalancerSourceRanges = s.in.ExposureSourceCIDRs
	case ExposureNodePort:
		svc.Spec.Type = corev1.ServiceTypeNodePort
	case ExposureClusterMesh:
		svc.Spec.Type = corev1.ServiceTypeClusterIP
		svc.Annotations = map[string]string{CiliumGlobalServiceAnnotation: "true"}
	default:
		return nil, fmt.Errorf("unknown exposure %q", s.exposure)
	}
	return toUnstructured(svc)
}

// exposureEndpoint reads the endpoint a remote consumer reaches: the global
// service name, the LoadBalancer's address, or Inputs.NodeAddress and the
// allocated node port. It returns nil and a message while the address is
// not known yet.
func (s *service) exposureEndpoint(ctx context.Context, g Getter) (*fleetv1alpha1.Endpoint, string, error) {
	name := ExposureServiceName(s.ref)
	_, port := s.driver.remoteTarget(s)
	secret := BindingSecretName(s.ref)
	if s.exposure == ExposureClusterMesh {
		return &fleetv1alpha1.Endpoint{Host: GlobalServiceHost(s.ref), Port: port, SecretName: secret}, "", nil
	}
	svc, err := getOptional(ctx, g, gvkService, s.namespace, name)
	if err != nil {
		return nil, "", err
	}
	if svc == nil {
		return nil, fmt.Sprintf("exposure Service %s/%s does not exist yet", s.namespace, name), nil
	}
	switch s.exposure {
	case ExposureLoadBalancer:
		ingress, _, _ := unstructured.NestedSlice(svc.Object, "status", "loadBalancer", "ingress")
		for _, i := range ingress {
			m, _ := i.(map[string]interface{})
			host, _ := m["ip"].(string)
			if host == "" {
				host, _ = m["hostname"].(string)
			}
			if host != "" {
				return &fleetv1alpha1.Endpoint{Host: host, Port: port, SecretName: secret}, "", nil
			}
		}
		return nil, fmt.Sprintf("LoadBalancer Service %s has no address yet", name), nil
	default:
		ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		var nodePort int64
		if len(ports) > 0 {
			m, _ := ports[0].(map[string]interface{})
			nodePort, _ = m["nodePort"].(int64)
		}
		if nodePort == 0 {
			return nil, fmt.Sprintf("NodePort Service %s has no node port yet", name), nil
		}
		if s.in.NodeAddress == "" {
			return nil, "no node address is known for the NodePort exposure (inputs.nodeAddress)", nil
		}
		return &fleetv1alpha1.Endpoint{Host: s.in.NodeAddress, Port: int32(nodePort), SecretName: secret}, "", nil
	}
}
