package render

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestExposureService(t *testing.T) {
	testCases := []struct {
		name       string
		engine     fleetv1alpha1.Engine
		caps       fleetv1alpha1.Capabilities
		cidrs      []string
		wantType   corev1.ServiceType
		global     bool
		port       int32
		selector   map[string]string
		sourceCIDR []string
	}{
		{
			name: "Zalando behind a LoadBalancer: the master", engine: fleetv1alpha1.EnginePostgreSQL, caps: withOperators(capsLB),
			cidrs: []string{"192.0.2.0/24"}, wantType: corev1.ServiceTypeLoadBalancer, port: 5432, sourceCIDR: []string{"192.0.2.0/24"},
			selector: map[string]string{"application": "spilo", "cluster-name": "berth-orders", "spilo-role": "master"},
		},
		{
			name: "built-in PostgreSQL on a NodePort: ordinal 0", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsNone,
			wantType: corev1.ServiceTypeNodePort, port: 5432,
			selector: map[string]string{"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "orders", appsv1.PodIndexLabel: "0"},
		},
		{
			name: "RabbitMQ over ClusterMesh: every node", engine: fleetv1alpha1.EngineRabbitMQ, caps: withOperators(capsMesh),
			wantType: corev1.ServiceTypeClusterIP, global: true, port: 5672,
			selector: map[string]string{"app.kubernetes.io/name": "orders", "app.kubernetes.io/component": "rabbitmq"},
		},
		{
			name: "built-in Redis over ClusterMesh: the master", engine: fleetv1alpha1.EngineRedis, caps: capsMesh,
			wantType: corev1.ServiceTypeClusterIP, global: true, port: 6379,
			selector: map[string]string{"app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "orders", appsv1.PodIndexLabel: "0"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := inputs(newWork(tc.engine).remoteProvider().build(), tc.caps)
			in.ExposureSourceCIDRs = tc.cidrs
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			svc := &corev1.Service{}
			g.Expect(fromUnstructured(find(res.Objects, "Service", res.Namespace, "orders-external"), svc)).To(Succeed())
			g.Expect(svc.Spec.Type).To(Equal(tc.wantType))
			g.Expect(svc.Spec.Selector).To(Equal(tc.selector))
			g.Expect(svc.Spec.Ports).To(HaveLen(1))
			g.Expect(svc.Spec.Ports[0].Port).To(Equal(tc.port))
			g.Expect(svc.Spec.Ports[0].TargetPort.IntVal).To(Equal(tc.port))
			g.Expect(svc.Spec.LoadBalancerSourceRanges).To(Equal(tc.sourceCIDR))
			if tc.global {
				g.Expect(svc.Annotations).To(HaveKeyWithValue(CiliumGlobalServiceAnnotation, "true"))
			} else {
				g.Expect(svc.Annotations).NotTo(HaveKey(CiliumGlobalServiceAnnotation))
			}
			// A remote provider renders no binding of its own.
			g.Expect(find(res.Objects, "Service", "shop", "orders")).To(BeNil())
		})
	}
}

func TestColocatedHasNoExposure(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsLB))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Exposure).To(Equal(ExposureNone))
	g.Expect(find(res.Objects, "Service", res.Namespace, "orders-external")).To(BeNil())
}
