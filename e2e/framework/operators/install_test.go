package operators

import (
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// writeVerbs are the verbs that let a subject change a resource.
var discoveryWriteVerbs = []string{"*", "create", "update", "patch", "delete"}

// grantsWrite reports whether rule grants a write verb on a resource of
// group.
func grantsWrite(rule rbacv1.PolicyRule, group string) bool {
	if !slices.Contains(rule.APIGroups, group) && !slices.Contains(rule.APIGroups, "*") {
		return false
	}
	return slices.ContainsFunc(rule.Verbs, func(v string) bool { return slices.Contains(discoveryWriteVerbs, v) })
}

// discoverOperator finds where the operator of group runs the way the
// spoke's discovery does: ClusterRoleBindings whose ClusterRole grants a
// write verb on the group, then Deployments in the bound ServiceAccounts'
// namespaces running under those ServiceAccounts. It returns
// "namespace/deployment" names.
func discoverOperator(t *testing.T, g Gomega, group string) []string {
	ctx := t.Context()
	crbs := &rbacv1.ClusterRoleBindingList{}
	g.Expect(admin.List(ctx, crbs)).To(Succeed())
	var found []string
	for _, crb := range crbs.Items {
		if crb.RoleRef.Kind != "ClusterRole" {
			continue
		}
		role := &rbacv1.ClusterRole{}
		if err := admin.Get(ctx, client.ObjectKey{Name: crb.RoleRef.Name}, role); err != nil {
			continue
		}
		if !slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool { return grantsWrite(r, group) }) {
			continue
		}
		for _, s := range crb.Subjects {
			if s.Kind != rbacv1.ServiceAccountKind {
				continue
			}
			deps := &appsv1.DeploymentList{}
			g.Expect(admin.List(ctx, deps, client.InNamespace(s.Namespace))).To(Succeed())
			for _, d := range deps.Items {
				if d.Spec.Template.Spec.ServiceAccountName == s.Name {
					found = append(found, d.Namespace+"/"+d.Name)
				}
			}
		}
	}
	return found
}

// TestInstall checks what Install made in TestMain: each operator is
// discoverable from its CRD group through RBAC as the real manifests make
// it, its Deployment runs on the kwok nodes, and installing again changes
// nothing.
func TestInstall(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	for _, op := range All() {
		in, err := InstallationOf(op)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(discoverOperator(t, g, in.GVK.Group)).To(Equal([]string{in.Namespace + "/" + in.Deployment}), "%s", op)
		dep := &appsv1.Deployment{}
		g.Eventually(func(g Gomega) {
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: in.Namespace, Name: in.Deployment}, dep)).To(Succeed())
			g.Expect(dep.Status.ReadyReplicas).To(BeEquivalentTo(1))
		}, waitTimeout, 250*time.Millisecond).Should(Succeed(), "%s Deployment", op)
	}
	before := &rbacv1.ClusterRole{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "postgres-operator"}, before)).To(Succeed())
	g.Expect(Install(ctx, admin, All()...)).To(Succeed())
	after := &rbacv1.ClusterRole{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "postgres-operator"}, after)).To(Succeed())
	g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "installing again is a no-op")
}

// TestEmulatorsActAsTheOperator checks that an emulator is held to its
// operator's ClusterRole: RabbitMQ's may list StatefulSets, not
// ClusterRoles.
func TestEmulatorsActAsTheOperator(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	in, err := InstallationOf(RabbitMQ)
	g.Expect(err).NotTo(HaveOccurred())
	mgr, err := newManager(member.Config, in, Options{}.withDefaults(), logr.Discard())
	g.Expect(err).NotTo(HaveOccurred())
	c := mgr.GetAPIReader()
	err = c.List(t.Context(), &rbacv1.ClusterRoleList{})
	g.Expect(err).To(MatchError(ContainSubstring(`User "system:serviceaccount:rabbitmq-system:rabbitmq-cluster-operator" cannot list resource "clusterroles"`)))
	g.Expect(c.List(t.Context(), &appsv1.StatefulSetList{})).To(Succeed())
}
