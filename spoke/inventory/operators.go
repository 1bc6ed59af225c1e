package inventory

import (
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// OperatorGroups maps each operator to the API group of the CRD that
// reveals it (OperatorCRDs): the part of the CRD name after the plural.
func OperatorGroups() map[fleetv1alpha1.Operator]string {
	out := make(map[fleetv1alpha1.Operator]string, len(OperatorCRDs))
	for name, op := range OperatorCRDs {
		_, group, _ := strings.Cut(name, ".")
		out[op] = group
	}
	return out
}

// operatorWriteVerbs are the verbs that make a ServiceAccount an operator of
// a group's resources. Reading (get, list, watch) does not: the
// RabbitMQ service-binding role and many dashboards read RabbitmqClusters.
var operatorWriteVerbs = []string{"create", "update", "patch", rbacv1.VerbAll}

// DiscoverOperatorNamespaces finds the namespaces each operator runs in, the
// way the operators' own install manifests lay them out (Zalando
// manifests/operator-service-account-rbac.yaml, Spotahome
// example/operator/all-redis-operator-resources.yaml, RabbitMQ
// config/rbac/role.yaml and role_binding.yaml): a ClusterRole grants write
// verbs on the resources of the operator's API group, a ClusterRoleBinding
// binds it to a ServiceAccount, and a Deployment in the ServiceAccount's
// namespace runs under it. An operator's namespaces are those of the
// Deployments that run under a ServiceAccount bound to such a ClusterRole.
//
// A ClusterRole counts only when one of its rules names the group
// explicitly, without resourceNames, with one of create, update, patch or *
// (any resource of the group: the RabbitMQ messaging-topology-operator,
// which writes rabbitmq.com queues and users through the same management
// API, counts as a RabbitMQ operator). Rules for every group ("*", as in
// cluster-admin) and aggregated ClusterRoles (admin, edit, which the
// operators' user-facing roles aggregate into) do not count: they would
// make every controller bound to cluster-admin, and every CI account bound
// to edit, an operator. Deployments being deleted do not count.
//
// The result is sorted and has no empty entries.
func DiscoverOperatorNamespaces(roles []*rbacv1.ClusterRole, bindings []*rbacv1.ClusterRoleBinding, deployments []*appsv1.Deployment) map[fleetv1alpha1.Operator][]string {
	groups := OperatorGroups()
	// writers[role] are the operators a ClusterRole makes its subjects.
	writers := map[string][]fleetv1alpha1.Operator{}
	for _, r := range roles {
		if r.AggregationRule != nil || r.DeletionTimestamp != nil {
			continue
		}
		for op, group := range groups {
			if grantsOperatorWrite(r.Rules, group) {
				writers[r.Name] = append(writers[r.Name], op)
			}
		}
	}
	type account struct{ namespace, name string }
	accounts := map[account][]fleetv1alpha1.Operator{}
	for _, b := range bindings {
		if b.DeletionTimestamp != nil || b.RoleRef.Kind != "ClusterRole" || b.RoleRef.APIGroup != rbacv1.GroupName {
			continue
		}
		ops := writers[b.RoleRef.Name]
		if len(ops) == 0 {
			continue
		}
		for _, s := range b.Subjects {
			if s.Kind != rbacv1.ServiceAccountKind || s.Namespace == "" || s.Name == "" {
				continue
			}
			a := account{s.Namespace, s.Name}
			accounts[a] = append(accounts[a], ops...)
		}
	}
	found := map[fleetv1alpha1.Operator]map[string]bool{}
	for _, d := range deployments {
		if d.DeletionTimestamp != nil {
			continue
		}
		for _, op := range accounts[account{d.Namespace, serviceAccountOf(&d.Spec.Template.Spec)}] {
			if found[op] == nil {
				found[op] = map[string]bool{}
			}
			found[op][d.Namespace] = true
		}
	}
	out := make(map[fleetv1alpha1.Operator][]string, len(found))
	for op, namespaces := range found {
		out[op] = slices.Sorted(maps.Keys(namespaces))
	}
	return out
}

// grantsOperatorWrite reports whether a rule names group explicitly and
// grants a write verb on its resources, not limited to named objects. Verbs
// match exactly, as the RBAC authorizer matches them.
func grantsOperatorWrite(rules []rbacv1.PolicyRule, group string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 || len(r.Resources) == 0 || !slices.Contains(r.APIGroups, group) {
			continue
		}
		for _, v := range r.Verbs {
			if slices.Contains(operatorWriteVerbs, v) {
				return true
			}
		}
	}
	return false
}

// serviceAccountOf is the ServiceAccount a pod runs as: the deprecated
// serviceAccount field when serviceAccountName is empty, else "default"
// (the ServiceAccount admission plugin's rule).
func serviceAccountOf(spec *corev1.PodSpec) string {
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount
	}
	return "default"
}

// cloneOperatorNamespaces deep-copies a discovery result.
func cloneOperatorNamespaces(in map[fleetv1alpha1.Operator][]string) map[fleetv1alpha1.Operator][]string {
	if in == nil {
		return nil
	}
	out := make(map[fleetv1alpha1.Operator][]string, len(in))
	for op, ns := range in {
		out[op] = slices.Clone(ns)
	}
	return out
}

// slimClusterRole keeps only the rules that name an operator's group, and
// whether the role is aggregated (its rules are then ignored anyway).
func slimClusterRole(r *rbacv1.ClusterRole) *rbacv1.ClusterRole {
	out := &rbacv1.ClusterRole{ObjectMeta: slimMeta(r.ObjectMeta, false)}
	if r.AggregationRule != nil {
		out.AggregationRule = &rbacv1.AggregationRule{}
		return out
	}
	groups := slices.Collect(maps.Values(OperatorGroups()))
	for _, rule := range r.Rules {
		for _, g := range rule.APIGroups {
			if slices.Contains(groups, g) {
				out.Rules = append(out.Rules, rule)
				break
			}
		}
	}
	return out
}

// slimClusterRoleBinding keeps the role and the ServiceAccount subjects.
func slimClusterRoleBinding(b *rbacv1.ClusterRoleBinding) *rbacv1.ClusterRoleBinding {
	out := &rbacv1.ClusterRoleBinding{ObjectMeta: slimMeta(b.ObjectMeta, false), RoleRef: b.RoleRef}
	for _, s := range b.Subjects {
		if s.Kind == rbacv1.ServiceAccountKind {
			out.Subjects = append(out.Subjects, s)
		}
	}
	return out
}

// slimDeployment keeps the ServiceAccount its pods run as.
func slimDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: slimMeta(d.ObjectMeta, false),
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			ServiceAccountName:       d.Spec.Template.Spec.ServiceAccountName,
			DeprecatedServiceAccount: d.Spec.Template.Spec.DeprecatedServiceAccount,
		}}},
	}
}
