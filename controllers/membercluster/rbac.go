package membercluster

import (
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Names in a member's hub namespace and of its cluster-scoped RBAC.
const (
	// NamespacePrefix prefixes a member's name to form its hub namespace.
	NamespacePrefix = "berth-member-"
	// SpokeServiceAccount is the spoke's identity on the hub, and the name
	// of its Role and RoleBinding.
	SpokeServiceAccount = "spoke"
	// LeaseName is the spoke's heartbeat Lease.
	LeaseName = "spoke"
	// PeersConfigMap maps peer members to their probe endpoints.
	PeersConfigMap = "peers"
	// HubKubeconfigSecret holds the spoke's hub kubeconfig under key
	// `kubeconfig`.
	HubKubeconfigSecret = "hub-kubeconfig"
	// JoinerRole lets a manual join's bootstrap identity read
	// HubKubeconfigSecret once the member is accepted.
	JoinerRole = "berth-joiner"
	// FieldManager writes the hub's status fields and taint.
	FieldManager = "berth-hub"
	// BootstrapServiceAccountPrefix starts the names of the ServiceAccounts
	// `berthctl join token` creates in BootstrapNamespace.
	BootstrapServiceAccountPrefix = "bootstrap-"
	// BootstrapNamespace holds the join tokens' ServiceAccounts.
	BootstrapNamespace = "berth-system"
)

// NamespaceFor returns the hub namespace of a member.
func NamespaceFor(member string) string { return NamespacePrefix + member }

// MemberForNamespace returns the member whose hub namespace ns is, or "".
func MemberForNamespace(ns string) string {
	m, ok := strings.CutPrefix(ns, NamespacePrefix)
	if !ok {
		return ""
	}
	return m
}

// ClusterRoleName is the name of a member's ClusterRole and
// ClusterRoleBinding.
func ClusterRoleName(member string) string { return "berth:member:" + member }

// SpokeUsername is the username the hub apiserver gives a member's spoke.
func SpokeUsername(member string) string {
	return "system:serviceaccount:" + NamespaceFor(member) + ":" + SpokeServiceAccount
}

// SpokeRules is the Role of a spoke in its hub namespace: exactly the
// contract between hub and spoke.
func SpokeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"serviceworks"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"serviceworks/status"}, Verbs: []string{"get", "update", "patch"}},
		// create cannot be restricted by name; the Lease is recognised by name.
		{APIGroups: []string{coordinationv1.GroupName}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{coordinationv1.GroupName}, Resources: []string{"leases"}, ResourceNames: []string{LeaseName}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
		// A provider spoke publishes the connection Secret of a service with
		// a remote consumer to its own hub namespace (<work>.published).
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create", "update", "patch", "delete"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
}

// ClusterRules is the ClusterRole of a spoke: its own MemberCluster only.
func ClusterRules(member string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"memberclusters"}, ResourceNames: []string{member}, Verbs: []string{"get"}},
		{APIGroups: []string{fleetv1alpha1.GroupVersion.Group}, Resources: []string{"memberclusters/status"}, ResourceNames: []string{member}, Verbs: []string{"get", "update", "patch"}},
	}
}

// JoinerRules lets a manual join's bootstrap identity read the spoke's hub
// kubeconfig.
func JoinerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{HubKubeconfigSecret}, Verbs: []string{"get"}},
	}
}

// joinerServiceAccount returns the bootstrap ServiceAccount named by a
// joined-by annotation, or "" when the annotation names something else.
func joinerServiceAccount(joinedBy string) string {
	prefix := "system:serviceaccount:" + BootstrapNamespace + ":"
	name, ok := strings.CutPrefix(joinedBy, prefix)
	if !ok || !strings.HasPrefix(name, BootstrapServiceAccountPrefix) || strings.Contains(name, ":") {
		return ""
	}
	return name
}
