package render

import (
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
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
//   - the platform namespace itself (replication, sentinels, clustering);
//   - the operator namespaces, when given;
//   - co-located: the consumer namespaces, on the client ports;
//   - remote: the exposure path, on the client ports: the
//     ExposureSourceCIDRs, or every address when none are given, because
//     LoadBalancer and NodePort traffic arrives from outside the cluster (and
//     with externalTrafficPolicy Cluster from a node address).
func (s *service) networkPolicy() *networkingv1.NetworkPolicy {
	rules := []networkingv1.NetworkPolicyIngressRule{{
		From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
	}}
	if len(s.in.OperatorNamespaces) > 0 {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: namespacesSelector(s.in.OperatorNamespaces),
		}}})
	}
	var ports []networkingv1.NetworkPolicyPort
	for _, p := range s.driver.clientPorts(s) {
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))})
	}
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

// namespacesSelector selects namespaces by name.
func namespacesSelector(names []string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: labelNamespaceName, Operator: metav1.LabelSelectorOpIn, Values: append([]string(nil), names...),
	}}}
}

// ciliumNetworkPolicy replaces the NetworkPolicy when the cluster runs
// Cilium. It is cluster-aware: consumer endpoints are matched on their
// namespace and on io.cilium.k8s.policy.cluster, the local cluster when
// co-located and the consumer's cluster for a remote ClusterMesh consumer.
// A remote consumer without ClusterMesh reaches the pods through the
// LoadBalancer or NodePort, so the rule allows the ExposureSourceCIDRs, or
// the world, host and remote-node entities when none are given.
func (s *service) ciliumNetworkPolicy() *unstructured.Unstructured {
	var ports []interface{}
	for _, p := range s.driver.clientPorts(s) {
		ports = append(ports, map[string]interface{}{"port": strconv.Itoa(int(p)), "protocol": "TCP"})
	}
	toPorts := []interface{}{map[string]interface{}{"ports": ports}}
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
	ingress := []interface{}{
		// An empty selector in a namespaced policy is every endpoint of the
		// platform namespace.
		map[string]interface{}{"fromEndpoints": []interface{}{map[string]interface{}{}}},
	}
	if len(s.in.OperatorNamespaces) > 0 {
		ingress = append(ingress, map[string]interface{}{"fromEndpoints": endpoints(s.in.OperatorNamespaces, "")})
	}
	switch {
	case s.colocated:
		ingress = append(ingress, map[string]interface{}{
			"fromEndpoints": endpoints(s.consumerNamespaces(), s.in.Capabilities.CiliumClusterName),
			"toPorts":       toPorts,
		})
	case s.exposure == ExposureClusterMesh:
		cluster := s.in.ConsumerCiliumClusterName
		if cluster == "" {
			cluster = s.work.Spec.Consumer.Cluster
		}
		ingress = append(ingress, map[string]interface{}{
			"fromEndpoints": endpoints(s.consumerNamespaces(), cluster),
			"toPorts":       toPorts,
		})
	case len(s.in.ExposureSourceCIDRs) > 0:
		var cidrs []interface{}
		for _, c := range s.in.ExposureSourceCIDRs {
			cidrs = append(cidrs, c)
		}
		ingress = append(ingress, map[string]interface{}{"fromCIDR": cidrs, "toPorts": toPorts})
	default:
		ingress = append(ingress, map[string]interface{}{
			"fromEntities": []interface{}{"world", "host", "remote-node"},
			"toPorts":      toPorts,
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
