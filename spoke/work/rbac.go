package work

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

var writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// PolicyRules are the cluster-wide permissions the ServiceWork controllers
// need in the member cluster, for a ClusterRole (spokeinstall.Rules and
// deploy/spoke/rbac.yaml grant them, with the inventory's): the kinds the
// renderer produces and the operators' resources, the records (ConfigMaps in
// the system namespace, which it creates), the volumes it reports as
// retained, node addresses, and the operator children it reads status from
// (Deployments, read only).
func PolicyRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces", "services", "secrets", "resourcequotas", "limitranges", "persistentvolumeclaims", "configmaps"}, Verbs: writeVerbs},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: writeVerbs},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: writeVerbs},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: writeVerbs},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: writeVerbs},
		{APIGroups: []string{"scheduling.k8s.io"}, Resources: []string{"priorityclasses"}, Verbs: writeVerbs},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: writeVerbs},
		{APIGroups: []string{"acid.zalan.do"}, Resources: []string{"postgresqls"}, Verbs: writeVerbs},
		{APIGroups: []string{"databases.spotahome.com"}, Resources: []string{"redisfailovers"}, Verbs: writeVerbs},
		{APIGroups: []string{"rabbitmq.com"}, Resources: []string{"rabbitmqclusters"}, Verbs: writeVerbs},
		{APIGroups: []string{"cilium.io"}, Resources: []string{"ciliumnetworkpolicies"}, Verbs: writeVerbs},
	}
}
