package render

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestNetworkPolicy(t *testing.T) {
	pg := []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(5432))}}
	self := networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}
	testCases := []struct {
		name   string
		remote bool
		mutate func(in *Inputs)
		want   []networkingv1.NetworkPolicyIngressRule
	}{
		{
			name: "co-located: the consumer namespaces on the client port",
			want: []networkingv1.NetworkPolicyIngressRule{self, {
				From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector([]string{"billing", "shop"})}},
				Ports: pg,
			}},
		},
		{
			name: "built-in admits no operator, and built-in PostgreSQL has no metrics port",
			mutate: func(in *Inputs) {
				in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"postgres-operator"}}
				in.MonitoringNamespaces = []string{"monitoring"}
			},
			want: []networkingv1.NetworkPolicyIngressRule{
				self,
				{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector([]string{"billing", "shop"})}}, Ports: pg},
			},
		},
		{
			name:   "remote: every source, only on the client port",
			remote: true,
			want: []networkingv1.NetworkPolicyIngressRule{self, {
				From: []networkingv1.NetworkPolicyPeer{
					{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}},
				},
				Ports: pg,
			}},
		},
		{
			name:   "remote: the exposure source CIDRs",
			remote: true,
			mutate: func(in *Inputs) { in.ExposureSourceCIDRs = []string{"192.0.2.0/24", "10.10.0.0/16"} },
			want: []networkingv1.NetworkPolicyIngressRule{self, {
				From: []networkingv1.NetworkPolicyPeer{
					{IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "10.10.0.0/16"}},
				},
				Ports: pg,
			}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := newWork(fleetv1alpha1.EnginePostgreSQL)
			if tc.remote {
				b.remoteProvider()
			}
			in := inputs(b.build(), capsNone)
			if tc.mutate != nil {
				tc.mutate(&in)
			}
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			np := &networkingv1.NetworkPolicy{}
			g.Expect(fromUnstructured(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName), np)).To(Succeed())
			g.Expect(np.Spec.PodSelector).To(Equal(metav1.LabelSelector{}), "every pod of the platform namespace")
			g.Expect(np.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
			g.Expect(np.Spec.Ingress).To(Equal(tc.want))
		})
	}
}

func TestNetworkPolicyPortsPerFlavour(t *testing.T) {
	testCases := []struct {
		engine fleetv1alpha1.Engine
		caps   fleetv1alpha1.Capabilities
		ports  []int32
	}{
		{fleetv1alpha1.EngineRedis, capsOperators, []int32{6379, 26379}},
		{fleetv1alpha1.EngineRedis, capsNone, []int32{6379}},
		{fleetv1alpha1.EngineRabbitMQ, capsOperators, []int32{5672}},
	}
	for _, tc := range testCases {
		t.Run(string(tc.engine), func(t *testing.T) {
			g := NewWithT(t)
			res, err := Render(inputs(newWork(tc.engine).build(), tc.caps))
			g.Expect(err).NotTo(HaveOccurred())
			np := &networkingv1.NetworkPolicy{}
			g.Expect(fromUnstructured(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName), np)).To(Succeed())
			var ports []int32
			for _, p := range np.Spec.Ingress[1].Ports {
				ports = append(ports, p.Port.IntVal)
			}
			g.Expect(ports).To(Equal(tc.ports))
		})
	}
}

func TestCiliumNetworkPolicy(t *testing.T) {
	toPorts := []interface{}{map[string]interface{}{"ports": []interface{}{map[string]interface{}{"port": "5432", "protocol": "TCP"}}}}
	self := map[string]interface{}{"fromEndpoints": []interface{}{map[string]interface{}{}}}
	endpoint := func(ns, cluster string) interface{} {
		return map[string]interface{}{"matchLabels": map[string]interface{}{
			"io.kubernetes.pod.namespace": ns, "io.cilium.k8s.policy.cluster": cluster,
		}}
	}
	testCases := []struct {
		name   string
		caps   fleetv1alpha1.Capabilities
		remote bool
		mutate func(in *Inputs)
		want   []interface{}
	}{
		{
			name: "co-located: consumer namespaces of the local cluster",
			caps: capsCilium,
			want: []interface{}{self, map[string]interface{}{
				"fromEndpoints": []interface{}{endpoint("billing", "alpha-mesh"), endpoint("shop", "alpha-mesh")},
				"toPorts":       toPorts,
			}},
		},
		{
			name:   "remote over ClusterMesh: consumer namespaces of the consumer's cluster",
			caps:   capsMesh,
			remote: true,
			want: []interface{}{self, map[string]interface{}{
				"fromEndpoints": []interface{}{endpoint("billing", testRemote), endpoint("shop", testRemote)},
				"toPorts":       toPorts,
			}},
		},
		{
			name:   "remote over ClusterMesh with the consumer's Cilium cluster name",
			caps:   capsMesh,
			remote: true,
			mutate: func(in *Inputs) { in.ConsumerCiliumClusterName = "beta-mesh" },
			want: []interface{}{self, map[string]interface{}{
				"fromEndpoints": []interface{}{endpoint("billing", "beta-mesh"), endpoint("shop", "beta-mesh")},
				"toPorts":       toPorts,
			}},
		},
		{
			name:   "remote without ClusterMesh: the exposure path from outside",
			caps:   capsCilium,
			remote: true,
			want: []interface{}{self, map[string]interface{}{
				"fromEntities": []interface{}{"world", "host", "remote-node"},
				"toPorts":      toPorts,
			}},
		},
		{
			name:   "remote without ClusterMesh, restricted to CIDRs; built-in admits no operator",
			caps:   capsCilium,
			remote: true,
			mutate: func(in *Inputs) {
				in.ExposureSourceCIDRs = []string{"192.0.2.0/24"}
				in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"ops"}}
			},
			want: []interface{}{
				self,
				map[string]interface{}{"fromCIDR": []interface{}{"192.0.2.0/24"}, "toPorts": toPorts},
			},
		},
		{
			name:   "Zalando remote over CIDRs: the operator of the local cluster",
			caps:   withOperators(capsCilium),
			remote: true,
			mutate: func(in *Inputs) {
				in.ExposureSourceCIDRs = []string{"192.0.2.0/24"}
				in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"ops"}}
			},
			want: []interface{}{
				self,
				map[string]interface{}{
					"fromEndpoints": []interface{}{endpoint("ops", "alpha-mesh")},
					"toPorts": []interface{}{map[string]interface{}{"ports": []interface{}{
						map[string]interface{}{"port": "5432", "protocol": "TCP"}, map[string]interface{}{"port": "8008", "protocol": "TCP"},
					}}},
				},
				map[string]interface{}{"fromCIDR": []interface{}{"192.0.2.0/24"}, "toPorts": toPorts},
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := newWork(fleetv1alpha1.EnginePostgreSQL)
			if tc.remote {
				b.remoteProvider()
			}
			in := inputs(b.build(), tc.caps)
			if tc.mutate != nil {
				tc.mutate(&in)
			}
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName)).To(BeNil())
			cnp := find(res.Objects, "CiliumNetworkPolicy", res.Namespace, networkPolicyName)
			g.Expect(cnp).NotTo(BeNil())
			g.Expect(cnp.GetAPIVersion()).To(Equal("cilium.io/v2"))
			g.Expect(field(cnp, "spec.endpointSelector")).To(Equal(map[string]interface{}{}))
			g.Expect(field(cnp, "spec.ingress")).To(Equal(tc.want))
		})
	}
}

// guardRailInputs admit every operator and two monitoring namespaces, with
// duplicates and out of order, so a case shows which of them a flavour lets
// in.
func guardRailInputs(in *Inputs) {
	in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{
		fleetv1alpha1.OperatorZalandoPostgres: {"postgres-operator", "default", "postgres-operator"},
		fleetv1alpha1.OperatorSpotahomeRedis:  {"redis-operator"},
		fleetv1alpha1.OperatorRabbitMQ:        {"rabbitmq-system"},
	}
	in.MonitoringNamespaces = []string{"observability", "monitoring", "observability"}
}

// flavourCases are every engine in every flavour, with the namespaces and
// ports guardRailInputs must open: the flavour's operator on the ports its
// source dials, the monitoring on the metrics ports.
var flavourCases = []struct {
	name          string
	engine        fleetv1alpha1.Engine
	operators     bool
	operatorNS    []string
	operatorPorts []int32
	metricsPorts  []int32
	clientPorts   []int32
}{
	{name: "PostgreSQL built-in", engine: fleetv1alpha1.EnginePostgreSQL, clientPorts: []int32{5432}},
	{
		name: "PostgreSQL Zalando", engine: fleetv1alpha1.EnginePostgreSQL, operators: true,
		operatorNS: []string{"default", "postgres-operator"}, operatorPorts: []int32{5432, 8008},
		metricsPorts: []int32{8008}, clientPorts: []int32{5432},
	},
	{name: "Redis built-in", engine: fleetv1alpha1.EngineRedis, clientPorts: []int32{6379}},
	{
		name: "Redis Spotahome", engine: fleetv1alpha1.EngineRedis, operators: true,
		operatorNS: []string{"redis-operator"}, operatorPorts: []int32{6379, 26379}, clientPorts: []int32{6379, 26379},
	},
	{name: "RabbitMQ built-in", engine: fleetv1alpha1.EngineRabbitMQ, metricsPorts: []int32{15692}, clientPorts: []int32{5672}},
	{
		name: "RabbitMQ operator", engine: fleetv1alpha1.EngineRabbitMQ, operators: true,
		operatorNS: []string{"rabbitmq-system"}, operatorPorts: []int32{15672},
		metricsPorts: []int32{15692}, clientPorts: []int32{5672},
	},
}

func TestNetworkPolicyPerFlavour(t *testing.T) {
	self := networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}
	from := func(ns ...string) []networkingv1.NetworkPolicyPeer {
		return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector(ns)}}
	}
	for _, tc := range flavourCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			caps := capsNone
			if tc.operators {
				caps = capsOperators
			}
			in := inputs(newWork(tc.engine).build(), caps)
			guardRailInputs(&in)
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			np := &networkingv1.NetworkPolicy{}
			g.Expect(fromUnstructured(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName), np)).To(Succeed())

			want := []networkingv1.NetworkPolicyIngressRule{self}
			if len(tc.operatorPorts) > 0 {
				want = append(want, networkingv1.NetworkPolicyIngressRule{From: from(tc.operatorNS...), Ports: networkPolicyPorts(tc.operatorPorts)})
			}
			if len(tc.metricsPorts) > 0 {
				want = append(want, networkingv1.NetworkPolicyIngressRule{From: from("monitoring", "observability"), Ports: networkPolicyPorts(tc.metricsPorts)})
			}
			want = append(want, networkingv1.NetworkPolicyIngressRule{From: from("billing", "shop"), Ports: networkPolicyPorts(tc.clientPorts)})
			g.Expect(np.Spec.Ingress).To(Equal(want))
			g.Expect(np.Spec.Ingress[0].Ports).To(BeEmpty(), "the engine's own pods reach each other on every port")
			g.Expect(np.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}), "egress stays open (Spilo needs the API server)")
			g.Expect(np.Spec.Egress).To(BeNil())
		})
	}
}

func TestCiliumNetworkPolicyPerFlavour(t *testing.T) {
	self := map[string]interface{}{"fromEndpoints": []interface{}{map[string]interface{}{}}}
	endpoints := func(ns ...string) []interface{} {
		var out []interface{}
		for _, n := range ns {
			out = append(out, map[string]interface{}{"matchLabels": map[string]interface{}{
				"io.kubernetes.pod.namespace": n, "io.cilium.k8s.policy.cluster": "alpha-mesh",
			}})
		}
		return out
	}
	toPorts := func(ports []int32) []interface{} {
		var out []interface{}
		for _, p := range ports {
			out = append(out, map[string]interface{}{"port": fmt.Sprint(p), "protocol": "TCP"})
		}
		return []interface{}{map[string]interface{}{"ports": out}}
	}
	for _, tc := range flavourCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			caps := capsCilium
			if tc.operators {
				caps = withOperators(capsCilium)
			}
			in := inputs(newWork(tc.engine).build(), caps)
			guardRailInputs(&in)
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(find(res.Objects, "NetworkPolicy", res.Namespace, networkPolicyName)).To(BeNil())
			cnp := find(res.Objects, "CiliumNetworkPolicy", res.Namespace, networkPolicyName)
			g.Expect(cnp).NotTo(BeNil())

			want := []interface{}{self}
			if len(tc.operatorPorts) > 0 {
				want = append(want, map[string]interface{}{"fromEndpoints": endpoints(tc.operatorNS...), "toPorts": toPorts(tc.operatorPorts)})
			}
			if len(tc.metricsPorts) > 0 {
				want = append(want, map[string]interface{}{"fromEndpoints": endpoints("monitoring", "observability"), "toPorts": toPorts(tc.metricsPorts)})
			}
			want = append(want, map[string]interface{}{"fromEndpoints": endpoints("billing", "shop"), "toPorts": toPorts(tc.clientPorts)})
			g.Expect(field(cnp, "spec.ingress")).To(Equal(want))
			spec, _, _ := unstructured.NestedMap(cnp.Object, "spec")
			g.Expect(spec).NotTo(HaveKey("egress"), "egress stays open (Spilo needs the API server)")
		})
	}
}

func TestGuardRailInputsRejectBadNamespaces(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(in *Inputs)
		wantErr string
	}{
		{
			name: "an operator namespace",
			mutate: func(in *Inputs) {
				in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"ok", "Not_A_Namespace"}}
			},
			wantErr: `inputs.operatorNamespaces[ZalandoPostgres][1] "Not_A_Namespace"`,
		},
		{
			name:    "a monitoring namespace",
			mutate:  func(in *Inputs) { in.MonitoringNamespaces = []string{""} },
			wantErr: `inputs.monitoringNamespaces[0] ""`,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsOperators)
			tc.mutate(&in)
			_, err := Render(in)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestResourceQuota(t *testing.T) {
	small := corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
	}}
	testCases := []struct {
		name      string
		engine    fleetv1alpha1.Engine
		caps      fleetv1alpha1.Capabilities
		remote    bool
		resources *corev1.ResourceRequirements
		want      map[corev1.ResourceName]string
	}{
		{
			name: "built-in: 3 replicas plus one spare", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsNone,
			want: map[corev1.ResourceName]string{
				"pods": "4", "requests.cpu": "2", "limits.cpu": "4", "requests.memory": "4Gi", "limits.memory": "4Gi",
				"persistentvolumeclaims": "3", "requests.storage": "30Gi", "services.loadbalancers": "0", "services.nodeports": "0",
			},
		},
		{
			name: "remote LoadBalancer: one balancer and its node port", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsLB, remote: true,
			want: map[corev1.ResourceName]string{"services.loadbalancers": "1", "services.nodeports": "1"},
		},
		{
			name: "remote NodePort: one node port", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsNone, remote: true,
			want: map[corev1.ResourceName]string{"services.loadbalancers": "0", "services.nodeports": "1"},
		},
		{
			name: "Spotahome: redis and sentinels", engine: fleetv1alpha1.EngineRedis, caps: capsOperators,
			want: map[corev1.ResourceName]string{
				"pods": "7", "requests.cpu": "2150m", "requests.memory": "4288Mi", "limits.cpu": "4600m",
				"limits.memory": "4864Mi", "persistentvolumeclaims": "3", "requests.storage": "30Gi",
			},
		},
		{
			name: "RabbitMQ operator: the setup container sizes small pods", engine: fleetv1alpha1.EngineRabbitMQ, caps: capsOperators,
			resources: &small,
			want:      map[corev1.ResourceName]string{"pods": "4", "requests.cpu": "400m", "requests.memory": "2000Mi"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := newWork(tc.engine)
			if tc.remote {
				b.remoteProvider()
			}
			w := b.build()
			if tc.resources != nil {
				w.Spec.Service.Resources = *tc.resources
			}
			res, err := Render(inputs(w, tc.caps))
			g.Expect(err).NotTo(HaveOccurred())
			q := &corev1.ResourceQuota{}
			g.Expect(fromUnstructured(find(res.Objects, "ResourceQuota", res.Namespace, quotaName), q)).To(Succeed())
			for k, v := range tc.want {
				got, ok := q.Spec.Hard[k]
				g.Expect(ok).To(BeTrue(), "quota has %s", k)
				g.Expect(got.Cmp(resource.MustParse(v))).To(Equal(0), "%s is %s, want %s", k, got.String(), v)
			}
		})
	}
}

func TestLimitRange(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EngineRedis).build(), capsOperators))
	g.Expect(err).NotTo(HaveOccurred())
	lr := &corev1.LimitRange{}
	g.Expect(fromUnstructured(find(res.Objects, "LimitRange", res.Namespace, limitRangeName), lr)).To(Succeed())
	g.Expect(lr.Spec.Limits).To(HaveLen(2))
	g.Expect(lr.Spec.Limits[0].Type).To(Equal(corev1.LimitTypeContainer))
	g.Expect(lr.Spec.Limits[0].DefaultRequest.Cpu().String()).To(Equal("50m"))
	g.Expect(lr.Spec.Limits[0].Default.Memory().String()).To(Equal("256Mi"))
	g.Expect(lr.Spec.Limits[1].Type).To(Equal(corev1.LimitTypePersistentVolumeClaim))
	g.Expect(lr.Spec.Limits[1].Max.Storage().String()).To(Equal("10Gi"))
}

func TestNamespaceAndPriorityClass(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EngineRabbitMQ).build(), capsOperators))
	g.Expect(err).NotTo(HaveOccurred())
	ns := find(res.Objects, "Namespace", "", "berth-team-a-orders-75c1a60b")
	g.Expect(ns).NotTo(BeNil())
	g.Expect(ns.GetLabels()).To(HaveKeyWithValue(LabelPlatformOwned, "true"))
	g.Expect(ns.GetAnnotations()).To(HaveKeyWithValue(AnnotationFlavour, string(FlavourRabbitMQOperator)))
	g.Expect(KeepOnRetain(ns)).To(BeTrue())
	pcU := find(res.Objects, "PriorityClass", "", PriorityClassName)
	g.Expect(Shared(pcU)).To(BeTrue())
	pc := &schedulingv1.PriorityClass{}
	g.Expect(fromUnstructured(pcU, pc)).To(Succeed())
	g.Expect(pc.Value).To(Equal(int32(PriorityClassValue)))
	g.Expect(pc.GlobalDefault).To(BeFalse())
}

func TestAppTeamRBAC(t *testing.T) {
	testCases := []struct {
		name     string
		engine   fleetv1alpha1.Engine
		caps     fleetv1alpha1.Capabilities
		remote   bool
		rules    []rbacv1.PolicyRule
		subjects []rbacv1.Subject
	}{
		{
			name: "built-in co-located: groups and default ServiceAccounts", engine: fleetv1alpha1.EnginePostgreSQL, caps: capsNone,
			rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"orders-credentials"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"services"}, ResourceNames: []string{"orders"}, Verbs: []string{"get"}},
				{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, ResourceNames: []string{"orders"}, Verbs: []string{"get"}},
			},
			subjects: []rbacv1.Subject{
				{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "berth:app-team:billing"},
				{Kind: "ServiceAccount", Name: "default", Namespace: "billing"},
				{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "berth:app-team:shop"},
				{Kind: "ServiceAccount", Name: "default", Namespace: "shop"},
			},
		},
		{
			name: "Zalando remote: groups only, and the exposure Service", engine: fleetv1alpha1.EnginePostgreSQL, caps: withOperators(capsLB), remote: true,
			rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"app.berth-orders.credentials.postgresql.acid.zalan.do"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"services"}, ResourceNames: []string{"orders-external"}, Verbs: []string{"get"}},
				{APIGroups: []string{"acid.zalan.do"}, Resources: []string{"postgresqls"}, ResourceNames: []string{"berth-orders"}, Verbs: []string{"get"}},
				{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, ResourceNames: []string{"berth-orders"}, Verbs: []string{"get"}},
			},
			subjects: []rbacv1.Subject{
				{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "berth:app-team:billing"},
				{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "berth:app-team:shop"},
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := newWork(tc.engine)
			if tc.remote {
				b.remoteProvider()
			}
			res, err := Render(inputs(b.build(), tc.caps))
			g.Expect(err).NotTo(HaveOccurred())
			role := &rbacv1.Role{}
			g.Expect(fromUnstructured(find(res.Objects, "Role", res.Namespace, appTeamRoleName), role)).To(Succeed())
			g.Expect(role.Rules).To(Equal(tc.rules))
			binding := &rbacv1.RoleBinding{}
			g.Expect(fromUnstructured(find(res.Objects, "RoleBinding", res.Namespace, appTeamRoleName), binding)).To(Succeed())
			g.Expect(binding.RoleRef.Name).To(Equal(appTeamRoleName))
			g.Expect(binding.Subjects).To(Equal(tc.subjects))
		})
	}
}
