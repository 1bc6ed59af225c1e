package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// TestRegistrationFromCAPI: every CAPI Cluster of the fleet becomes an
// Available MemberCluster with its role, node pools and peer latencies.
func TestRegistrationFromCAPI(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(WaitForMembersAvailable(ctx, env.Hub, allMembers, 3*time.Minute)).To(Succeed())

	roles := map[string]fleetv1alpha1.MemberRole{
		"mgmt": fleetv1alpha1.RoleManagement, "workload-1": fleetv1alpha1.RoleWorkload,
		"workload-2": fleetv1alpha1.RoleWorkload, "services-1": fleetv1alpha1.RoleServices,
	}
	for name, role := range roles {
		mc := &fleetv1alpha1.MemberCluster{}
		g.Expect(env.Hub.Get(ctx, clientKey(name), mc)).To(Succeed())
		g.Expect(mc.Spec.Role).To(Equal(role), name)
		g.Expect(mc.Spec.ClusterRef).NotTo(BeNil(), name)
		g.Expect(mc.Status.Namespace).To(Equal(fleetv1alpha1.MemberNamespace(name)))
		g.Eventually(func() []string {
			_ = env.Hub.Get(ctx, clientKey(name), mc)
			var pools []string
			for _, p := range mc.Status.NodePools {
				pools = append(pools, p.Name)
			}
			return pools
		}, time.Minute, poll).Should(ConsistOf("general", "database"), name)
	}
	// Latency to peers is measured over the probe endpoints.
	g.Eventually(func() int {
		mc := &fleetv1alpha1.MemberCluster{}
		_ = env.Hub.Get(ctx, clientKey("workload-1"), mc)
		return len(mc.Status.Latencies)
	}, 2*time.Minute, poll).Should(Equal(3))
}

// TestOneServicePerStrategy: a service under each strategy is placed where
// the strategy says, becomes Ready, and the app finds it by name.
func TestOneServicePerStrategy(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(WaitForMembersAvailable(ctx, env.Hub, allMembers, 3*time.Minute)).To(Succeed())
	ensureNamespace(g, env.Hub, "team")
	ensureNamespace(g, env.Members["workload-1"].Client, "shop")
	ensureNamespace(g, env.Members["workload-2"].Client, "cart")

	cases := []struct {
		ms          *fleetv1alpha1.ManagedService
		wantCluster string
	}{
		{service("orders-db", fleetv1alpha1.EnginePostgreSQL, "16", "workload-1", fleetv1alpha1.StrategyWorkload, "shop"), "workload-1"},
		{service("cart-cache", fleetv1alpha1.EngineRedis, "7.2", "workload-2", fleetv1alpha1.StrategyDedicated, "cart"), "services-1"},
		{service("events", fleetv1alpha1.EngineRabbitMQ, "3.13", "workload-1", fleetv1alpha1.StrategyManagement, "shop"), "mgmt"},
	}
	for _, tc := range cases {
		g.Expect(env.Hub.Create(ctx, tc.ms)).To(Succeed())
	}
	for _, tc := range cases {
		got := waitReady(t, g, tc.ms)
		g.Expect(got.Status.Placement.Cluster).To(Equal(tc.wantCluster), tc.ms.Name)
		g.Expect(got.Status.Endpoint).NotTo(BeNil())
		g.Expect(got.Status.Endpoint.Host).To(Equal(tc.ms.Name), "the app uses the same name wherever the service runs")
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		expectBinding(g, tc.ms.Spec.Consumer.Cluster, tc.ms.Spec.Consumer.Namespaces[0], tc.ms.Name)
	}
}
