package inventory

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// BenchmarkNodePools measures one inventory recomputation: grouping nodes
// and summing the requests of ten pods per node.
func BenchmarkNodePools(b *testing.B) {
	for _, nodes := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("nodes=%d,pods=%d", nodes, nodes*10), func(b *testing.B) {
			ns := make([]*corev1.Node, nodes)
			pods := make([]*corev1.Pod, 0, nodes*10)
			for i := range ns {
				name := fmt.Sprintf("node-%d", i)
				ns[i] = newNode(name).label("node.berth.io/pool", fmt.Sprintf("pool-%d", i%8)).label("zone", "a").
					taint("dedicated", "x", corev1.TaintEffectNoSchedule).allocatable("16", "64Gi", "200Gi").build()
				for j := range 10 {
					pods = append(pods, newPod(fmt.Sprintf("%s-%d", name, j), name).
						initContainer(rl("1", "128Mi", "")).container(rl("250m", "512Mi", "1Gi")).build())
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if got := NodePools(ns, pods, DefaultPoolLabels); len(got) != 8 {
					b.Fatalf("got %d pools", len(got))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/recompute")
		})
	}
}

// BenchmarkDiscoverOperatorNamespaces measures one operator discovery over
// a cluster with many ordinary Deployments, 200 ClusterRoles and bindings,
// and the three operators.
func BenchmarkDiscoverOperatorNamespaces(b *testing.B) {
	for _, deployments := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("deployments=%d", deployments), func(b *testing.B) {
			roles := []*rbacv1.ClusterRole{zalandoRole, spotahomeRole, rabbitRole}
			bindings := []*rbacv1.ClusterRoleBinding{
				bindSA("postgres-operator", "postgres-operator", [2]string{"postgres-operator", "postgres-operator"}),
				bindSA("redisoperator", "redisoperator", [2]string{"redis-operator", "redisoperator"}),
				bindSA("operator-rolebinding", "operator-role", [2]string{"rabbitmq-system", "rabbitmq-cluster-operator"}),
			}
			for i := range 200 {
				name := fmt.Sprintf("app-%d", i)
				roles = append(roles, clusterRole(name, rule([]string{"apps"}, []string{"deployments"}, []string{"get", "list", "watch", "patch"})))
				bindings = append(bindings, bindSA(name, name, [2]string{fmt.Sprintf("ns-%d", i), name}))
			}
			deps := []*appsv1.Deployment{
				deploymentAs("postgres-operator", "postgres-operator", "postgres-operator"),
				deploymentAs("redis-operator", "redisoperator", "redisoperator"),
				deploymentAs("rabbitmq-system", "rabbitmq-cluster-operator", "rabbitmq-cluster-operator"),
			}
			for i := range deployments {
				deps = append(deps, deploymentAs(fmt.Sprintf("ns-%d", i%200), fmt.Sprintf("d-%d", i), fmt.Sprintf("app-%d", i%200)))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if got := DiscoverOperatorNamespaces(roles, bindings, deps); len(got) != 3 {
					b.Fatalf("got %d operators", len(got))
				}
			}
		})
	}
}
