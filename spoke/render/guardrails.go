package render

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// PriorityClassValue is the priority of managed services' pods: above
// ordinary workloads (0), far below the system classes (2e9), so a noisy app
// on a shared node is preempted before the database it uses.
const PriorityClassValue = 1000000

// Well-known label keys used in policies.
const (
	labelNamespaceName   = "kubernetes.io/metadata.name"
	ciliumNamespaceLabel = "io.kubernetes.pod.namespace"
	ciliumClusterLabel   = "io.cilium.k8s.policy.cluster"
)

// guardRails renders the objects around a provider's service: the platform
// Namespace, the shared PriorityClass, the ResourceQuota and LimitRange, the
// ingress policy and the app team's read-only RBAC.
func (s *service) guardRails() ([]*unstructured.Unstructured, error) {
	if err := validateGuardRailInputs(*s.in); err != nil {
		return nil, err
	}
	role, binding := s.appTeamRBAC()
	before, err := convertAll(s.platformNamespace(), priorityClass(), s.resourceQuota(), s.limitRange())
	if err != nil {
		return nil, err
	}
	var policy *unstructured.Unstructured
	if s.in.Capabilities.Cilium {
		policy = s.ciliumNetworkPolicy()
	} else if policy, err = toUnstructured(s.networkPolicy()); err != nil {
		return nil, err
	}
	rbac, err := convertAll(role, binding)
	if err != nil {
		return nil, err
	}
	return append(append(before, policy), rbac...), nil
}

// platformNamespace is the namespace the service runs in. App teams get no
// RoleBinding there besides the read-only one berth renders. The flavour is
// recorded so a later render keeps it.
func (s *service) platformNamespace() *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: s.namespace,
		Labels: map[string]string{
			LabelPlatformOwned:                   "true",
			"pod-security.kubernetes.io/enforce": "baseline",
		},
		Annotations: map[string]string{AnnotationFlavour: string(s.flavour), AnnotationKeepOnRetain: "true"},
	}}
}

// priorityClass is shared by every managed service; it carries no
// ServiceWork label and is never deleted with a service.
func priorityClass() *schedulingv1.PriorityClass {
	policy := corev1.PreemptLowerPriority
	return &schedulingv1.PriorityClass{
		ObjectMeta:       metav1.ObjectMeta{Name: PriorityClassName, Labels: map[string]string{LabelShared: "true"}},
		Value:            PriorityClassValue,
		GlobalDefault:    false,
		PreemptionPolicy: &policy,
		Description:      "Pods of berth managed services (databases, caches, queues).",
	}
}

// quotaHard sizes the ResourceQuota: the sum over the service's pods of
// their requests and limits, plus one spare pod of the largest kind (a
// rolling update, an operator's backup job, a pod still terminating); the
// volumes, their total size, and exactly the Services a remote exposure
// needs. A LoadBalancer Service also allocates a node port.
func (s *service) quotaHard() corev1.ResourceList {
	hard := corev1.ResourceList{}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	var pods, pvcs int64
	storage := resource.NewQuantity(0, resource.BinarySI)
	var spare podGroup
	for _, g := range s.driver.podGroups(s) {
		addList(requests, scaleList(g.resources.Requests, g.count))
		addList(limits, scaleList(g.resources.Limits, g.count))
		pods += g.count
		pvcs += g.count * g.pvcs
		for i := int64(0); i < g.count*g.pvcs; i++ {
			storage.Add(g.storage)
		}
		if spare.resources.Requests == nil || g.resources.Requests.Cpu().Cmp(*spare.resources.Requests.Cpu()) > 0 {
			spare = g
		}
	}
	addList(requests, spare.resources.Requests)
	addList(limits, spare.resources.Limits)
	pods++
	hard[corev1.ResourcePods] = *resource.NewQuantity(pods, resource.DecimalSI)
	hard[corev1.ResourceRequestsCPU] = requests[corev1.ResourceCPU]
	hard[corev1.ResourceRequestsMemory] = requests[corev1.ResourceMemory]
	hard[corev1.ResourceLimitsCPU] = limits[corev1.ResourceCPU]
	hard[corev1.ResourceLimitsMemory] = limits[corev1.ResourceMemory]
	hard[corev1.ResourcePersistentVolumeClaims] = *resource.NewQuantity(pvcs, resource.DecimalSI)
	hard[corev1.ResourceRequestsStorage] = *storage
	var lbs, nodePorts int64
	switch s.exposure {
	case ExposureLoadBalancer:
		lbs, nodePorts = 1, 1
	case ExposureNodePort:
		nodePorts = 1
	}
	hard[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(lbs, resource.DecimalSI)
	hard[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(nodePorts, resource.DecimalSI)
	return hard
}

// resourceQuota caps what the platform namespace may consume.
func (s *service) resourceQuota() *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: quotaName, Namespace: s.namespace},
		Spec:       corev1.ResourceQuotaSpec{Hard: s.quotaHard()},
	}
}

// limitRange gives containers that do not size themselves (operator sidecars
// and init containers) a small default, so they count against the quota,
// and caps each volume at the service's storage size.
func (s *service) limitRange() *corev1.LimitRange {
	return &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: limitRangeName, Namespace: s.namespace},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
			{
				Type:           corev1.LimitTypeContainer,
				Default:        allowance.Limits.DeepCopy(),
				DefaultRequest: allowance.Requests.DeepCopy(),
			},
			{
				Type: corev1.LimitTypePersistentVolumeClaim,
				Max:  corev1.ResourceList{corev1.ResourceStorage: s.tmpl.Storage.Size},
			},
		}},
	}
}

// consumerNamespaces are the consumer namespaces, sorted.
func (s *service) consumerNamespaces() []string {
	ns := append([]string(nil), s.work.Spec.Consumer.Namespaces...)
	sort.Strings(ns)
	return ns
}

// networkPolicy allows ingress to the service's pods only from:
//   - the platform namespace itself, on every port: the engine's own pods
//     replicate and cluster among themselves (Patroni 8008 and 5432 between
//     Spilo pods, sentinels and redis on 26379 and 6379, RabbitMQ's epmd
//     4369 and distribution 25672, and whatever else the engine opens);
//   - the namespaces of the flavour's operator, on operatorPorts only;
//   - the monitoring namespaces, on metricsPorts only;
//   - co-located: the consumer namespaces, on the client ports;
//   - remote: the exposure path, on the client ports: the
//     ExposureSourceCIDRs, or every address when none are given, because
//     LoadBalancer and NodePort traffic arrives from outside the cluster (and
//     with externalTrafficPolicy Cluster from a node address).
//
// The policy has no egress section: egress stays open, which Spilo needs to
// reach the API server (Patroni keeps its state in Kubernetes objects) and
// every engine needs for DNS.
func (s *service) networkPolicy() *networkingv1.NetworkPolicy {
	rules := []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
	}}
	if ops, ports := s.operatorNamespaces(), s.operatorPorts(); len(ops) > 0 && len(ports) > 0 {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector(ops)}},
			Ports: networkPolicyPorts(ports),
		})
	}
	if mon, ports := s.monitoringNamespaces(), s.metricsPorts(); len(mon) > 0 && len(ports) > 0 {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector(mon)}},
			Ports: networkPolicyPorts(ports),
		})
	}
	ports := networkPolicyPorts(s.driver.clientPorts(s))
	if s.colocated {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespacesSelector(s.consumerNamespaces())}},
			Ports: ports,
		})
	} else {
		cidrs := s.in.ExposureSourceCIDRs
		if len(cidrs) == 0 {
			cidrs = []string{"0.0.0.0/0", "::/0"}
		}
		var from []networkingv1.NetworkPolicyPeer
		for _, c := range cidrs {
			from = append(from, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}})
		}
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: from, Ports: ports})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: networkPolicyName, Namespace: s.namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

// networkPolicyPorts are TCP ports of a NetworkPolicy rule.
func networkPolicyPorts(ports []int32) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))})
	}
	return out
}

// operatorPorts are the pod ports each operator dials, read from the
// operators' sources. Nothing else the operators do needs the network to
// the pods: the rest goes through the API server (RabbitMQ's CLI calls are
// pods/exec).
var operatorPorts = map[fleetv1alpha1.Operator][]int32{
	// zalando/postgres-operator: the Patroni REST API on every pod's IP
	// (pkg/util/patroni/patroni.go, apiPort = 8008), and SQL as postgres
	// through the master Service <cluster>.<ns>.svc:5432, which forwards to
	// the pods' 5432 (pkg/cluster/database.go, pgConnectionString).
	fleetv1alpha1.OperatorZalandoPostgres: {5432, 8008},
	// spotahome/redis-operator: redis on the pod IPs at spec.redis.port
	// (berth leaves the default, 6379) and the sentinels on their pod IPs at
	// 26379 (service/redis/client.go, redisPort and sentinelPort, called
	// from operator/redisfailover/service/check.go).
	fleetv1alpha1.OperatorSpotahomeRedis: {spotahomeRedisPort, spotahomeSentinelPort},
	// rabbitmq/cluster-operator: the management API on each pod's stable DNS
	// name at 15672 (internal/rabbitmqclient/client.go,
	// GetClientInfoForPod); 15671 only when tls.disableNonTLSListeners is
	// set, which berth never renders.
	fleetv1alpha1.OperatorRabbitMQ: {15672},
}

// operatorPorts are the pod ports the flavour's operator dials; none for
// the built-in flavour.
func (s *service) operatorPorts() []int32 {
	return operatorPorts[s.driver.operator()]
}

// metricsPorts are the pod ports serving Prometheus metrics in what berth
// renders. Only these are opened to the monitoring namespaces.
//   - Zalando: Patroni serves GET /metrics on its REST API port 8008
//     (patroni/api.py, do_GET_metrics); berth adds no exporter sidecar.
//   - Spotahome: none: the exporter runs only with
//     spec.redis.exporter.enabled, which berth does not set.
//   - RabbitMQ, operator and built-in: the rabbitmq_prometheus plugin on
//     15692, enabled by default in the official image
//     (docker-library/rabbitmq Dockerfile-ubuntu.template); the operator's
//     client Service names that port "prometheus".
//   - Built-in PostgreSQL and Redis: none: the official images serve no
//     metrics.
func (s *service) metricsPorts() []int32 {
	switch {
	case s.flavour == FlavourZalando:
		return []int32{8008}
	case s.tmpl.Engine == fleetv1alpha1.EngineRabbitMQ:
		return []int32{15692}
	}
	return nil
}

// operatorNamespaces are the sorted, de-duplicated namespaces of the
// flavour's operator; none for the built-in flavour.
func (s *service) operatorNamespaces() []string {
	op := s.driver.operator()
	if op == "" {
		return nil
	}
	return sortedUnique(s.in.OperatorNamespaces[op])
}

// monitoringNamespaces are the sorted, de-duplicated monitoring namespaces.
func (s *service) monitoringNamespaces() []string {
	return sortedUnique(s.in.MonitoringNamespaces)
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// validateGuardRailInputs rejects namespace names no namespace can have, so
// a rule never silently selects nothing.
func validateGuardRailInputs(in Inputs) error {
	ops := make([]fleetv1alpha1.Operator, 0, len(in.OperatorNamespaces))
	for op := range in.OperatorNamespaces {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for _, op := range ops {
		for i, ns := range in.OperatorNamespaces[op] {
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return fmt.Errorf("inputs.operatorNamespaces[%s][%d] %q is not a namespace name: %s", op, i, ns, strings.Join(errs, "; "))
			}
		}
	}
	for i, ns := range in.MonitoringNamespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("inputs.monitoringNamespaces[%d] %q is not a namespace name: %s", i, ns, strings.Join(errs, "; "))
		}
	}
	return nil
}

// namespacesSelector selects namespaces by name.
func namespacesSelector(names []string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: labelNamespaceName, Operator: metav1.LabelSelectorOpIn, Values: append([]string(nil), names...),
	}}}
}

// ciliumNetworkPolicy replaces the NetworkPolicy when the cluster runs
// Cilium, with the same rules (see networkPolicy). It is cluster-aware:
// endpoints are matched on their namespace and on
// io.cilium.k8s.policy.cluster: the local cluster for the operators, the
// monitoring and co-located consumers, and the consumer's cluster for a
// remote ClusterMesh consumer. A remote consumer without ClusterMesh reaches
// the pods through the LoadBalancer or NodePort, so the rule allows the
// ExposureSourceCIDRs, or the world, host and remote-node entities when none
// are given. Like the NetworkPolicy it has no egress section.
func (s *service) ciliumNetworkPolicy() *unstructured.Unstructured {
	toPorts := func(ports []int32) []interface{} {
		var out []interface{}
		for _, p := range ports {
			out = append(out, map[string]interface{}{"port": strconv.Itoa(int(p)), "protocol": "TCP"})
		}
		return []interface{}{map[string]interface{}{"ports": out}}
	}
	endpoints := func(namespaces []string, cluster string) []interface{} {
		var out []interface{}
		for _, ns := range namespaces {
			labels := map[string]interface{}{ciliumNamespaceLabel: ns}
			if cluster != "" {
				labels[ciliumClusterLabel] = cluster
			}
			out = append(out, map[string]interface{}{"matchLabels": labels})
		}
		return out
	}
	local := s.in.Capabilities.CiliumClusterName
	client := toPorts(s.driver.clientPorts(s))
	ingress := []interface{}{
		// An empty selector in a namespaced policy is every endpoint of the
		// platform namespace.
		map[string]interface{}{"fromEndpoints": []interface{}{map[string]interface{}{}}},
	}
	if ops, ports := s.operatorNamespaces(), s.operatorPorts(); len(ops) > 0 && len(ports) > 0 {
		ingress = append(ingress, map[string]interface{}{"fromEndpoints": endpoints(ops, local), "toPorts": toPorts(ports)})
	}
	if mon, ports := s.monitoringNamespaces(), s.metricsPorts(); len(mon) > 0 && len(ports) > 0 {
		ingress = append(ingress, map[string]interface{}{"fromEndpoints": endpoints(mon, local), "toPorts": toPorts(ports)})
	}
	switch {
	case s.colocated:
		ingress = append(ingress, map[string]interface{}{
			"fromEndpoints": endpoints(s.consumerNamespaces(), local),
			"toPorts":       client,
		})
	case s.exposure == ExposureClusterMesh:
		cluster := s.in.ConsumerCiliumClusterName
		if cluster == "" {
			cluster = s.work.Spec.Consumer.Cluster
		}
		ingress = append(ingress, map[string]interface{}{
			"fromEndpoints": endpoints(s.consumerNamespaces(), cluster),
			"toPorts":       client,
		})
	case len(s.in.ExposureSourceCIDRs) > 0:
		var cidrs []interface{}
		for _, c := range s.in.ExposureSourceCIDRs {
			cidrs = append(cidrs, c)
		}
		ingress = append(ingress, map[string]interface{}{"fromCIDR": cidrs, "toPorts": client})
	default:
		ingress = append(ingress, map[string]interface{}{
			"fromEntities": []interface{}{"world", "host", "remote-node"},
			"toPorts":      client,
		})
	}
	u := newUnstructured(GVKCiliumNetworkPolicy, s.namespace, networkPolicyName)
	u.Object["spec"] = map[string]interface{}{
		"endpointSelector": map[string]interface{}{},
		"ingress":          ingress,
	}
	return u
}

// appTeamRBAC gives the consumer namespaces' app team read-only get on the
// credentials Secret and the service's status objects. The subjects are the
// group AppTeamGroup(ns) of every consumer namespace and, when co-located,
// the default ServiceAccount of every consumer namespace.
func (s *service) appTeamRBAC() (*rbacv1.Role, *rbacv1.RoleBinding) {
	byResource := map[objectRef][]string{}
	add := func(group, resource, name string) {
		k := objectRef{group: group, resource: resource}
		byResource[k] = append(byResource[k], name)
	}
	add("", "secrets", s.driver.credentialsSecret(s))
	for _, o := range s.driver.statusObjects(s) {
		add(o.group, o.resource, o.name)
	}
	if s.exposure != ExposureNone {
		add("", "services", ExposureServiceName(s.ref))
	}
	keys := make([]objectRef, 0, len(byResource))
	for k := range byResource {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].resource < keys[j].resource
	})
	var rules []rbacv1.PolicyRule
	for _, k := range keys {
		names := byResource[k]
		sort.Strings(names)
		rules = append(rules, rbacv1.PolicyRule{
			APIGroups: []string{k.group}, Resources: []string{k.resource}, ResourceNames: names, Verbs: []string{"get"},
		})
	}
	var subjects []rbacv1.Subject
	for _, ns := range s.consumerNamespaces() {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: AppTeamGroup(ns)})
		if s.colocated {
			subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: ns})
		}
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: appTeamRoleName, Namespace: s.namespace}, Rules: rules}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: appTeamRoleName, Namespace: s.namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: appTeamRoleName},
		Subjects:   subjects,
	}
	return role, binding
}

// podDisruptionBudget keeps all but one replica up during voluntary
// disruptions, when the service has more than one replica and its operator
// does not keep a budget of its own.
func (s *service) podDisruptionBudget() (*unstructured.Unstructured, error) {
	if s.tmpl.Replicas < 2 || s.driver.operatorPDB() {
		return nil, nil
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: s.driver.podSelector(s)},
		},
	}
	u, err := toUnstructured(pdb)
	if err != nil {
		return nil, fmt.Errorf("rendering the PodDisruptionBudget: %w", err)
	}
	return u, nil
}
