package render

import (
	"strconv"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// pgConnection is normalised PostgreSQL connection data as a provider would
// publish it.
func pgConnection() map[string][]byte {
	return map[string][]byte{
		KeyEngine: []byte("PostgreSQL"), KeyUsername: []byte("app"), KeyPassword: []byte("s3cret"),
		KeyDatabase: []byte("app"), KeyHost: []byte("192.0.2.10"), KeyPort: []byte("31234"),
	}
}

func TestColocatedBinding(t *testing.T) {
	testCases := []struct {
		name     string
		engine   fleetv1alpha1.Engine
		caps     fleetv1alpha1.Capabilities
		secret   map[string][]byte
		target   string
		port     int32
		wantData map[string]string
	}{
		{
			name: "built-in PostgreSQL", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsNone,
			secret: map[string][]byte{"username": []byte("app"), "password": []byte("pw"), "database": []byte("app")},
			target: "orders.berth-team-a-orders-75c1a60b.svc.cluster.local", port: 5432,
			wantData: map[string]string{
				KeyEngine: "PostgreSQL", KeyHost: "orders.shop.svc.cluster.local", KeyPort: "5432", KeyUsername: "app", KeyPassword: "pw",
				KeyDatabase: "app", KeyURI: "postgresql://app:pw@orders.shop.svc.cluster.local:5432/app",
			},
		},
		{
			name: "Zalando", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsOperators,
			secret: map[string][]byte{"username": []byte("app"), "password": []byte("pw")},
			target: "berth-orders.berth-team-a-orders-75c1a60b.svc.cluster.local", port: 5432,
			wantData: map[string]string{KeyDatabase: "app", KeyURI: "postgresql://app:pw@orders.shop.svc.cluster.local:5432/app"},
		},
		{
			name: "Spotahome through the sentinels", engine: fleetv1alpha1.EngineRedis, caps: capsOperators,
			secret: map[string][]byte{"password": []byte("pw")},
			target: "rfs-orders.berth-team-a-orders-75c1a60b.svc.cluster.local", port: 26379,
			wantData: map[string]string{KeyMode: RedisModeSentinel, KeySentinelMasterName: "mymaster", KeyPort: "26379", KeyPassword: "pw"},
		},
		{
			name: "built-in Redis to the master", engine: fleetv1alpha1.EngineRedis, caps: capsNone,
			secret: map[string][]byte{"password": []byte("pw")},
			target: "orders.berth-team-a-orders-75c1a60b.svc.cluster.local", port: 6379,
			wantData: map[string]string{KeyMode: RedisModeDirect, KeyURI: "redis://:pw@orders.shop.svc.cluster.local:6379/0"},
		},
		{
			name: "RabbitMQ operator", engine: fleetv1alpha1.EngineRabbitMQ, caps: capsOperators,
			secret: map[string][]byte{"username": []byte("default_user_x+y/z="), "password": []byte("p@ss")},
			target: "orders.berth-team-a-orders-75c1a60b.svc.cluster.local", port: 5672,
			wantData: map[string]string{KeyVhost: "/", KeyURI: "amqp://default_user_x+y%2Fz=:p%40ss@orders.shop.svc.cluster.local:5672/%2F"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := inputs(newWork(tc.engine).build(), tc.caps)
			obs, err := ProviderStatus(t.Context(), in, mapGetter{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Endpoint).NotTo(BeNil())
			conn, err := ConnectionData(in, tc.secret, *obs.Endpoint)
			g.Expect(err).NotTo(HaveOccurred())
			in.Connection = conn
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Pending).To(BeEmpty())
			for _, ns := range []string{"shop", "billing"} {
				svc := &corev1.Service{}
				g.Expect(fromUnstructured(find(res.Objects, "Service", ns, "orders"), svc)).To(Succeed())
				g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeExternalName))
				g.Expect(svc.Spec.ExternalName).To(Equal(tc.target))
				g.Expect(svc.Spec.Ports[0].Port).To(Equal(tc.port))
				g.Expect(find(res.Objects, "EndpointSlice", ns, "orders-remote")).To(BeNil())
			}
			data := secretData(g, find(res.Objects, "Secret", "shop", "orders-credentials"))
			for k, v := range tc.wantData {
				g.Expect(string(data[k])).To(Equal(v), "key %s", k)
			}
			if tc.wantData[KeyMode] == RedisModeSentinel {
				g.Expect(data).NotTo(HaveKey(KeyURI))
			}
			billing := secretData(g, find(res.Objects, "Secret", "billing", "orders-credentials"))
			g.Expect(string(billing[KeyHost])).To(Equal("orders.billing.svc.cluster.local"))
		})
	}
}

func TestBindingWaitsForCredentials(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsNone))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(find(res.Objects, "Service", "shop", "orders")).NotTo(BeNil(), "the Service does not wait")
	g.Expect(find(res.Objects, "Secret", "shop", "orders-credentials")).To(BeNil())
	g.Expect(res.Pending).To(ConsistOf(
		ContainSubstring("Secret billing/orders-credentials"), ContainSubstring("Secret shop/orders-credentials"),
	))
}

func TestRemoteBinding(t *testing.T) {
	testCases := []struct {
		name        string
		endpoint    *fleetv1alpha1.Endpoint
		caps        fleetv1alpha1.Capabilities
		noTemplate  bool
		connection  map[string][]byte
		wantType    corev1.ServiceType
		wantExtName string
		wantPort    int32
		wantSlice   *discoveryv1.EndpointSlice
		wantStub    bool
		wantPending int
	}{
		{
			name: "IPv4 NodePort: selector-less Service on the standard port", endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234},
			caps: capsNone, connection: pgConnection(), wantType: corev1.ServiceTypeClusterIP, wantPort: 5432,
			wantSlice: &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}}}},
		},
		{
			name: "IPv6 LoadBalancer", endpoint: &fleetv1alpha1.Endpoint{Host: "2001:db8::10", Port: 5432},
			caps: capsNone, connection: pgConnection(), wantType: corev1.ServiceTypeClusterIP, wantPort: 5432,
			wantSlice: &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv6, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"2001:db8::10"}}}},
		},
		{
			name: "hostname LoadBalancer: ExternalName", endpoint: &fleetv1alpha1.Endpoint{Host: "lb-1.elb.example.com", Port: 5432},
			caps: capsNone, connection: pgConnection(), wantType: corev1.ServiceTypeExternalName, wantExtName: "lb-1.elb.example.com", wantPort: 5432,
		},
		{
			name: "ClusterMesh: alias to a global service stub", endpoint: &fleetv1alpha1.Endpoint{Host: "orders-external.berth-team-a-orders-75c1a60b.svc", Port: 5432},
			caps: capsMesh, connection: pgConnection(), wantType: corev1.ServiceTypeExternalName,
			wantExtName: "orders-external.berth-team-a-orders-75c1a60b.svc.cluster.local", wantPort: 5432, wantStub: true,
		},
		{
			name: "no endpoint yet: nothing but pending", caps: capsNone, connection: pgConnection(), wantPending: 4,
		},
		{
			name: "no credentials yet: Services only", endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234},
			caps: capsNone, wantType: corev1.ServiceTypeClusterIP, wantPort: 5432, wantPending: 2,
			wantSlice: &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}}}},
		},
		{
			name: "no template: the engine comes from the connection", endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234},
			caps: capsNone, noTemplate: true, connection: pgConnection(), wantType: corev1.ServiceTypeClusterIP, wantPort: 5432,
			wantSlice: &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}}}},
		},
		{
			name: "no template nor credentials: the endpoint's port", endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234},
			caps: capsNone, noTemplate: true, wantType: corev1.ServiceTypeClusterIP, wantPort: 31234, wantPending: 2,
			wantSlice: &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}}}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			w := newWork(fleetv1alpha1.EnginePostgreSQL).remoteConsumer(tc.endpoint).build()
			if tc.noTemplate {
				w.Spec.Service = nil
			}
			in := inputs(w, tc.caps)
			in.Connection = tc.connection
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Pending).To(HaveLen(tc.wantPending))
			g.Expect(res.Flavour).To(BeEmpty(), "a consumer runs no engine")
			g.Expect(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName)).To(BeNil())
			if tc.endpoint == nil {
				g.Expect(res.Objects).To(BeEmpty())
				return
			}
			stubNS := find(res.Objects, "Namespace", "", "berth-team-a-orders-75c1a60b")
			stub := find(res.Objects, "Service", "berth-team-a-orders-75c1a60b", "orders-external")
			if tc.wantStub {
				g.Expect(stubNS).NotTo(BeNil())
				g.Expect(stub).NotTo(BeNil())
				g.Expect(stub.GetAnnotations()).To(HaveKeyWithValue(CiliumGlobalServiceAnnotation, "true"))
				g.Expect(field(stub, "spec.selector")).To(BeNil(), "ClusterMesh supplies the backends")
			} else {
				g.Expect(stubNS).To(BeNil())
				g.Expect(stub).To(BeNil())
			}
			for _, ns := range []string{"shop", "billing"} {
				svc := &corev1.Service{}
				g.Expect(fromUnstructured(find(res.Objects, "Service", ns, "orders"), svc)).To(Succeed())
				g.Expect(svc.Spec.Type).To(Equal(tc.wantType))
				g.Expect(svc.Spec.ExternalName).To(Equal(tc.wantExtName))
				g.Expect(svc.Spec.Selector).To(BeEmpty())
				g.Expect(svc.Spec.Ports[0].Port).To(Equal(tc.wantPort))
				sliceU := find(res.Objects, "EndpointSlice", ns, "orders-remote")
				if tc.wantSlice == nil {
					g.Expect(sliceU).To(BeNil())
				} else {
					slice := &discoveryv1.EndpointSlice{}
					g.Expect(fromUnstructured(sliceU, slice)).To(Succeed())
					g.Expect(slice.Labels).To(HaveKeyWithValue(discoveryv1.LabelServiceName, "orders"))
					g.Expect(slice.Labels).To(HaveKeyWithValue(discoveryv1.LabelManagedBy, endpointSliceManager))
					g.Expect(slice.AddressType).To(Equal(tc.wantSlice.AddressType))
					g.Expect(slice.Endpoints[0].Addresses).To(Equal(tc.wantSlice.Endpoints[0].Addresses))
					g.Expect(*slice.Endpoints[0].Conditions.Ready).To(BeTrue())
					g.Expect(*slice.Ports[0].Port).To(Equal(tc.endpoint.Port), "the slice carries the provider's port")
					g.Expect(*slice.Ports[0].Name).To(Equal(svc.Spec.Ports[0].Name), "the Service port maps to the slice port by name")
					g.Expect(svc.Spec.Ports[0].TargetPort).To(Equal(intstr.FromInt32(tc.endpoint.Port)))
				}
				sec := find(res.Objects, "Secret", ns, "orders-credentials")
				if tc.connection == nil {
					g.Expect(sec).To(BeNil())
					continue
				}
				data := secretData(g, sec)
				g.Expect(string(data[KeyHost])).To(Equal("orders." + ns + ".svc.cluster.local"))
				g.Expect(string(data[KeyPort])).To(Equal(itoa(tc.wantPort)))
				g.Expect(string(data[KeyPassword])).To(Equal("s3cret"))
			}
		})
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
