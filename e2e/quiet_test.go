//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// quietWindow is how long the converged fleet is watched.
const quietWindow = 60 * time.Second

// TestQuietFleet: once 30 services are Ready, the fleet is quiet. Over a
// minute, counted from each apiserver's apiserver_request_total:
//   - no member serves a DELETE (nothing, inside or outside berth's record,
//     is deleted at rest);
//   - each member serves at most one write per work on it beyond
//     heartbeats (Lease renewals, kwok's node status);
//   - the hub serves no write to fleet.berth.io objects.
//
// The hub's apiserver is also member mgmt's, so its budget is the same as a
// member's, plus the fleet.berth.io check.
func TestQuietFleet(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	engines := []struct {
		engine  fleetv1alpha1.Engine
		version string
	}{{fleetv1alpha1.EnginePostgreSQL, "16"}, {fleetv1alpha1.EngineRedis, "7.2"}, {fleetv1alpha1.EngineRabbitMQ, "3.13"}}
	strategies := []fleetv1alpha1.Strategy{
		fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyManagement,
		fleetv1alpha1.StrategyDedicated, fleetv1alpha1.StrategyWorkload,
	}
	var services []*fleetv1alpha1.ManagedService
	for i := range 30 {
		e := engines[i%len(engines)]
		consumer := []string{"workload-1", "workload-2"}[i%2]
		ms := service(fmt.Sprintf("quiet-%02d", i), e.engine, e.version, consumer, strategies[i%len(strategies)], "app")
		ms.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
		ms.Spec.DeletionPolicy = fleetv1alpha1.DeletionPolicyDelete
		g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
		services = append(services, ms)
	}
	t.Cleanup(func() {
		for _, ms := range services {
			_ = env.Hub.Delete(context.Background(), ms)
		}
	})
	start := time.Now()
	for _, ms := range services {
		waitReady(t, g, ms)
	}
	t.Logf("30 services Ready in %s", time.Since(start).Round(100*time.Millisecond))

	// Let the last status writes of the convergence land.
	time.Sleep(10 * time.Second)
	before := map[string]requestCounts{}
	for _, m := range allMembers {
		c, err := scrapeRequests(ctx, m)
		g.Expect(err).NotTo(HaveOccurred())
		before[m] = c
	}
	time.Sleep(quietWindow)
	works := map[string]int{}
	list := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(env.Hub.List(ctx, list)).To(Succeed())
	for _, w := range list.Items {
		works[w.Labels[fleetv1alpha1.LabelMember]]++
	}

	// Print every apiserver's counts before judging any.
	type verdict struct {
		writes, deletes, fleet requestCounts
	}
	verdicts := map[string]verdict{}
	for _, m := range allMembers {
		after, err := scrapeRequests(ctx, m)
		g.Expect(err).NotTo(HaveOccurred())
		served := after.since(before[m])
		writes := served.writes()
		heartbeats := served.filter(func(k requestKey) bool { return mutating(k.Verb) && heartbeat(k) })
		kube := served.filter(func(k requestKey) bool { return mutating(k.Verb) && kubernetesOwn(k) })
		t.Logf("%s over %s at rest: %.0f requests, %.0f heartbeat writes, %.0f rejected Endpoints writes of kube-apiserver itself, %.0f other writes for %d works: %s",
			m, quietWindow, served.total(), heartbeats.total(), kube.total(), writes.total(), works[m], writes)
		verdicts[m] = verdict{
			writes:  writes,
			deletes: writes.filter(func(k requestKey) bool { return k.Verb == "DELETE" || k.Verb == "DELETECOLLECTION" }),
			fleet:   writes.filter(func(k requestKey) bool { return k.Group == fleetv1alpha1.GroupVersion.Group }),
		}
	}
	// Who last wrote each MemberCluster's status, and when: names the
	// writer when the hub's budget is exceeded.
	mcs := &fleetv1alpha1.MemberClusterList{}
	g.Expect(env.Hub.List(ctx, mcs)).To(Succeed())
	for _, mc := range mcs.Items {
		for _, f := range mc.ManagedFields {
			if f.Subresource == "status" && f.Time != nil && time.Since(f.Time.Time) < quietWindow {
				t.Logf("MemberCluster %s status written at rest by %s (%s) at %s", mc.Name, f.Manager, f.Operation, f.Time.UTC().Format(time.RFC3339))
			}
		}
	}
	for _, m := range allMembers {
		v := verdicts[m]
		g.Expect(v.deletes).To(BeEmpty(), "%s deleted objects at rest", m)
		g.Expect(v.writes.total()).To(BeNumerically("<=", works[m]), "%s: more than one write per work at rest", m)
		if m == "mgmt" {
			g.Expect(v.fleet).To(BeEmpty(), "the hub received writes at rest")
		}
	}
}
