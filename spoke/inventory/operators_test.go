package inventory

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// clusterRole builds a ClusterRole with one rule per call of rule.
func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func rule(groups, resources, verbs []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}

// bindSA binds a ClusterRole to ServiceAccounts given as "namespace/name".
func bindSA(name, role string, accounts ...[2]string) *rbacv1.ClusterRoleBinding {
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	}
	for _, a := range accounts {
		b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: a[0], Name: a[1]})
	}
	return b
}

func deploymentAs(namespace, name, serviceAccount string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			ServiceAccountName: serviceAccount,
			Containers:         []corev1.Container{{Name: "operator", Image: "img"}},
		}}},
	}
}

// The operators' ClusterRoles, reduced to the rules that matter here, as
// their install manifests write them.
var (
	// zalando/postgres-operator manifests/operator-service-account-rbac.yaml
	zalandoRole = clusterRole("postgres-operator",
		rule([]string{"acid.zalan.do"}, []string{"postgresqls", "postgresqls/status", "operatorconfigurations"},
			[]string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}),
		rule([]string{""}, []string{"pods"}, []string{"delete", "get", "list", "patch", "update", "watch"}))
	// spotahome/redis-operator example/operator/all-redis-operator-resources.yaml
	spotahomeRole = clusterRole("redisoperator",
		rule([]string{"databases.spotahome.com"}, []string{"redisfailovers", "redisfailovers/finalizers"}, []string{"*"}))
	// rabbitmq/cluster-operator config/rbac/role.yaml
	rabbitRole = clusterRole("operator-role",
		rule([]string{"rabbitmq.com"}, []string{"rabbitmqclusters"}, []string{"create", "get", "list", "update", "watch"}),
		rule([]string{"rabbitmq.com"}, []string{"rabbitmqclusters/status"}, []string{"get", "update"}))
)

func TestDiscoverOperatorNamespaces(t *testing.T) {
	operators := []*rbacv1.ClusterRole{zalandoRole, spotahomeRole, rabbitRole}
	installed := []*rbacv1.ClusterRoleBinding{
		bindSA("postgres-operator", "postgres-operator", [2]string{"postgres-operator", "postgres-operator"}),
		bindSA("redisoperator", "redisoperator", [2]string{"redis-operator", "redisoperator"}),
		bindSA("operator-rolebinding", "operator-role", [2]string{"rabbitmq-system", "rabbitmq-cluster-operator"}),
	}
	running := []*appsv1.Deployment{
		deploymentAs("postgres-operator", "postgres-operator", "postgres-operator"),
		deploymentAs("redis-operator", "redisoperator", "redisoperator"),
		deploymentAs("rabbitmq-system", "rabbitmq-cluster-operator", "rabbitmq-cluster-operator"),
	}
	all := map[fleetv1alpha1.Operator][]string{
		fleetv1alpha1.OperatorZalandoPostgres: {"postgres-operator"},
		fleetv1alpha1.OperatorSpotahomeRedis:  {"redis-operator"},
		fleetv1alpha1.OperatorRabbitMQ:        {"rabbitmq-system"},
	}
	deleting := deploymentAs("redis-operator", "redisoperator", "redisoperator")
	deleting.DeletionTimestamp = &metav1.Time{}

	testCases := []struct {
		name        string
		roles       []*rbacv1.ClusterRole
		bindings    []*rbacv1.ClusterRoleBinding
		deployments []*appsv1.Deployment
		want        map[fleetv1alpha1.Operator][]string
	}{
		{name: "nothing installed", want: map[fleetv1alpha1.Operator][]string{}},
		{name: "the three operators as their manifests install them", roles: operators, bindings: installed, deployments: running, want: all},
		{
			name: "a role without a binding, or a binding without a Deployment, is no operator", roles: operators,
			bindings:    installed[:1],
			deployments: running[1:],
			want:        map[fleetv1alpha1.Operator][]string{},
		},
		{
			name:  "a Deployment in the ServiceAccount's namespace under another ServiceAccount is no operator",
			roles: operators, bindings: installed,
			deployments: []*appsv1.Deployment{deploymentAs("postgres-operator", "pgbouncer", "default")},
			want:        map[fleetv1alpha1.Operator][]string{},
		},
		{
			name:  "a Deployment under the same ServiceAccount name in another namespace is no operator",
			roles: operators, bindings: installed,
			deployments: []*appsv1.Deployment{deploymentAs("default", "postgres-operator", "postgres-operator")},
			want:        map[fleetv1alpha1.Operator][]string{},
		},
		{
			name:  "an operator installed twice, in two namespaces, by one binding",
			roles: operators,
			bindings: []*rbacv1.ClusterRoleBinding{bindSA("postgres-operator", "postgres-operator",
				[2]string{"pg-b", "postgres-operator"}, [2]string{"pg-a", "postgres-operator"})},
			deployments: []*appsv1.Deployment{
				deploymentAs("pg-b", "postgres-operator", "postgres-operator"),
				deploymentAs("pg-a", "postgres-operator", "postgres-operator"),
				deploymentAs("pg-a", "postgres-operator-2", "postgres-operator"),
			},
			want: map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"pg-a", "pg-b"}},
		},
		{
			name:  "a Deployment being deleted does not count",
			roles: operators, bindings: installed,
			deployments: []*appsv1.Deployment{deleting},
			want:        map[fleetv1alpha1.Operator][]string{},
		},
		{
			name:        "an empty serviceAccountName runs as default",
			roles:       operators,
			bindings:    []*rbacv1.ClusterRoleBinding{bindSA("rmq", "operator-role", [2]string{"rabbitmq-system", "default"})},
			deployments: []*appsv1.Deployment{deploymentAs("rabbitmq-system", "rabbitmq-cluster-operator", "")},
			want:        map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorRabbitMQ: {"rabbitmq-system"}},
		},
		{
			name: "one role writing two operator groups makes its subjects both operators",
			roles: []*rbacv1.ClusterRole{clusterRole("db-platform",
				rule([]string{"acid.zalan.do", "rabbitmq.com"}, []string{"*"}, []string{"patch"}))},
			bindings:    []*rbacv1.ClusterRoleBinding{bindSA("db-platform", "db-platform", [2]string{"platform", "controller"})},
			deployments: []*appsv1.Deployment{deploymentAs("platform", "controller", "controller")},
			want: map[fleetv1alpha1.Operator][]string{
				fleetv1alpha1.OperatorZalandoPostgres: {"platform"}, fleetv1alpha1.OperatorRabbitMQ: {"platform"},
			},
		},
		{
			name: "the RabbitMQ topology operator writes rabbitmq.com and calls the same management API",
			roles: []*rbacv1.ClusterRole{clusterRole("messaging-topology-operator",
				rule([]string{"rabbitmq.com"}, []string{"rabbitmqclusters"}, []string{"get", "list", "watch"}),
				rule([]string{"rabbitmq.com"}, []string{"queues", "users"}, []string{"create", "delete", "get", "list", "patch", "update", "watch"}))},
			bindings:    []*rbacv1.ClusterRoleBinding{bindSA("mto", "messaging-topology-operator", [2]string{"rabbitmq-system", "messaging-topology-operator"})},
			deployments: []*appsv1.Deployment{deploymentAs("rabbitmq-system", "messaging-topology-operator", "messaging-topology-operator")},
			want:        map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorRabbitMQ: {"rabbitmq-system"}},
		},
		{
			name: "readers, named grants, wildcard groups and aggregated roles are no operators",
			roles: []*rbacv1.ClusterRole{
				// RabbitMQ config/rbac/service_binding_cluster_role.yaml
				clusterRole("service-binding-role", rule([]string{"rabbitmq.com"}, []string{"rabbitmqclusters"}, []string{"get", "list", "watch"})),
				clusterRole("one-postgresql", rbacv1.PolicyRule{
					APIGroups: []string{"acid.zalan.do"}, Resources: []string{"postgresqls"}, ResourceNames: []string{"orders"}, Verbs: []string{"update"},
				}),
				clusterRole("cluster-admin", rule([]string{"*"}, []string{"*"}, []string{"*"})),
				clusterRole("shouting", rule([]string{"acid.zalan.do"}, []string{"postgresqls"}, []string{"UPDATE"})),
				func() *rbacv1.ClusterRole {
					// Zalando manifests/user-facing-clusterroles.yaml aggregate into edit.
					r := clusterRole("edit", rule([]string{"acid.zalan.do"}, []string{"postgresqls"}, []string{"create", "update", "patch", "delete"}))
					r.AggregationRule = &rbacv1.AggregationRule{}
					return r
				}(),
			},
			bindings: []*rbacv1.ClusterRoleBinding{
				bindSA("a", "service-binding-role", [2]string{"apps", "app"}),
				bindSA("b", "one-postgresql", [2]string{"apps", "app"}),
				bindSA("c", "cluster-admin", [2]string{"apps", "app"}),
				bindSA("d", "shouting", [2]string{"apps", "app"}),
				bindSA("e", "edit", [2]string{"apps", "app"}),
			},
			deployments: []*appsv1.Deployment{deploymentAs("apps", "app", "app")},
			want:        map[fleetv1alpha1.Operator][]string{},
		},
		{
			name:  "a binding to a Role kind, or to users and groups, is ignored",
			roles: operators,
			bindings: []*rbacv1.ClusterRoleBinding{
				{
					ObjectMeta: metav1.ObjectMeta{Name: "odd"},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "postgres-operator"},
					Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "postgres-operator", Name: "postgres-operator"}},
				},
				{
					ObjectMeta: metav1.ObjectMeta{Name: "people"},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "postgres-operator"},
					Subjects: []rbacv1.Subject{
						{Kind: rbacv1.UserKind, Name: "postgres-operator"}, {Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:postgres-operator"},
					},
				},
			},
			deployments: running,
			want:        map[fleetv1alpha1.Operator][]string{},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := DiscoverOperatorNamespaces(tc.roles, tc.bindings, tc.deployments)
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestOperatorGroups(t *testing.T) {
	g := NewWithT(t)
	g.Expect(OperatorGroups()).To(Equal(map[fleetv1alpha1.Operator]string{
		fleetv1alpha1.OperatorZalandoPostgres: "acid.zalan.do",
		fleetv1alpha1.OperatorSpotahomeRedis:  "databases.spotahome.com",
		fleetv1alpha1.OperatorRabbitMQ:        "rabbitmq.com",
	}))
}

// TestSlimKeepsWhatDiscoveryReads checks that discovery over slimmed objects
// finds what it finds over full ones, and that slimming drops the rest.
func TestSlimKeepsWhatDiscoveryReads(t *testing.T) {
	g := NewWithT(t)
	role := zalandoRole.DeepCopy()
	role.Rules = append(role.Rules, rule([]string{"apps"}, []string{"statefulsets"}, []string{"create"}))
	binding := bindSA("postgres-operator", "postgres-operator", [2]string{"postgres-operator", "postgres-operator"})
	binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, Name: "admin"})
	dep := deploymentAs("postgres-operator", "postgres-operator", "postgres-operator")
	dep.Status.Replicas = 1
	dep.Labels = map[string]string{"app": "x"}

	slimmed := func(o any) any {
		out, err := slim(o)
		g.Expect(err).NotTo(HaveOccurred())
		return out
	}
	sr := slimmed(role).(*rbacv1.ClusterRole)
	sb := slimmed(binding).(*rbacv1.ClusterRoleBinding)
	sd := slimmed(dep).(*appsv1.Deployment)
	g.Expect(sr.Rules).To(Equal(zalandoRole.Rules[:1]), "only the rules naming an operator group are kept")
	g.Expect(sb.Subjects).To(HaveLen(1), "only ServiceAccount subjects are kept")
	g.Expect(sd.Spec.Template.Spec.Containers).To(BeEmpty())
	g.Expect(sd.Status).To(Equal(appsv1.DeploymentStatus{}))
	g.Expect(sd.Labels).To(BeNil())

	full := DiscoverOperatorNamespaces([]*rbacv1.ClusterRole{role}, []*rbacv1.ClusterRoleBinding{binding}, []*appsv1.Deployment{dep})
	g.Expect(full).To(HaveKey(fleetv1alpha1.OperatorZalandoPostgres))
	g.Expect(DiscoverOperatorNamespaces([]*rbacv1.ClusterRole{sr}, []*rbacv1.ClusterRoleBinding{sb}, []*appsv1.Deployment{sd})).To(Equal(full))

	aggregated := clusterRole("edit", zalandoRole.Rules...)
	aggregated.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{}}}
	sa := slimmed(aggregated).(*rbacv1.ClusterRole)
	g.Expect(sa.AggregationRule).NotTo(BeNil(), "an aggregated role stays recognisable")
	g.Expect(sa.Rules).To(BeEmpty())
}

func TestSlimChanged(t *testing.T) {
	dep := func(rv, sa string, replicas int32) *appsv1.Deployment {
		d := deploymentAs("ns", "d", sa)
		d.ResourceVersion = rv
		d.Status.Replicas = replicas
		out, _ := slim(d)
		return out.(*appsv1.Deployment)
	}
	testCases := []struct {
		name     string
		old, new any
		want     bool
	}{
		{name: "only the status changed", old: dep("1", "a", 1), new: dep("2", "a", 2), want: false},
		{name: "the ServiceAccount changed", old: dep("1", "a", 1), new: dep("2", "b", 1), want: true},
		{name: "not an object", old: "x", new: "y", want: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(slimChanged(tc.old, tc.new)).To(Equal(tc.want))
		})
	}
}
