package inventory

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

var (
	readVerbs = []string{"get", "list", "watch"}
	// listWatch is all an informer needs.
	listWatch = []string{"list", "watch"}
)

// PolicyRules are the cluster-wide permissions the Collector needs in the
// member cluster, for a ClusterRole.
func PolicyRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes", "pods"}, Verbs: readVerbs},
		{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: readVerbs},
		// Operator discovery (DiscoverOperatorNamespaces).
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}, Verbs: listWatch},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: listWatch},
	}
}

// NamespacedPolicyRules are the permissions the Collector needs in Cilium's
// namespace, for a Role there: only the two Cilium objects, by name.
func NamespacedPolicyRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{ClusterMeshSecret}, Verbs: readVerbs},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{CiliumConfigMap}, Verbs: readVerbs},
	}
}
