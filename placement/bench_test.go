package placement_test

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

var benchFleets = map[int][]*fleetv1alpha1.MemberCluster{}

func benchFleet(n int) []*fleetv1alpha1.MemberCluster {
	if f, ok := benchFleets[n]; ok {
		return f
	}
	benchFleets[n] = ptesting.Fleet(n, 42)
	return benchFleets[n]
}

// placeAll places every service in turn, as the controller does for a
// backlog: each decision sees the capacity and tenant spread booked by the
// decisions before it. It returns how many were placed.
func placeAll(b *testing.B, p *placement.Placer, snap *framework.Snapshot, svcs []*fleetv1alpha1.ManagedService) int {
	ctx := context.Background()
	tenants := map[string]map[string]int32{}
	placed := 0
	now := time.Now()
	for _, ms := range svcs {
		svc := framework.NewService(ms)
		counts := tenants[svc.Namespace]
		if counts == nil {
			counts = map[string]int32{}
			tenants[svc.Namespace] = counts
		}
		svc.TenantPlacements = counts
		d, err := p.Decide(ctx, placement.Request{Service: svc, Snapshot: snap}, now)
		if err != nil {
			b.Fatal(err)
		}
		if d.Outcome == placement.OutcomePlaced {
			placed++
			counts[d.Placement.Cluster]++
			snap.Assume(svc, d.Placement.Cluster)
		}
	}
	return placed
}

// BenchmarkPlace places S services over C clusters; one op is the whole
// backlog. ns/decision is ns/op divided by S.
func BenchmarkPlace(b *testing.B) {
	p, err := placement.NewPlacer(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, services := range []int{100, 1000, 10000} {
		for _, clusters := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("services=%d/clusters=%d", services, clusters), func(b *testing.B) {
				fleet := benchFleet(clusters)
				svcs := ptesting.Services(services, fleet, 7)
				b.ReportAllocs()
				placed := 0
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					snap := framework.NewSnapshot(fleet)
					b.StartTimer()
					before := cpuTime()
					placed = placeAll(b, p, snap, svcs)
					cpu += cpuTime() - before
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(services), "ns/decision")
				// CPU time of the process (all threads, GC included): on a
				// shared machine it is steadier than wall time.
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(placed)*100/float64(services), "%placed")
			})
		}
	}
}

// BenchmarkDecision times single decisions over a fixed fleet and reports
// their p50 and p99. "Dedicated-all-feasible" is the worst case: every
// member is a Services cluster that fits, so every filter and scorer runs
// on every member.
func BenchmarkDecision(b *testing.B) {
	p, err := placement.NewPlacer(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, clusters := range []int{100, 1000} {
		fleet := benchFleet(clusters)
		allServices := make([]*fleetv1alpha1.MemberCluster, len(fleet))
		for i, mc := range fleet {
			mc = mc.DeepCopy()
			mc.Spec.Role, mc.Spec.Taints = fleetv1alpha1.RoleServices, nil
			mc.Status.Conditions = ptesting.NewMember(mc.Name).Build().Status.Conditions
			allServices[i] = mc
		}
		cases := []struct {
			name  string
			fleet []*fleetv1alpha1.MemberCluster
			svcs  func() []*fleetv1alpha1.ManagedService
		}{
			{name: "mixed", fleet: fleet, svcs: func() []*fleetv1alpha1.ManagedService { return ptesting.Services(1000, fleet, 9) }},
			{name: "Workload", fleet: fleet, svcs: strategyOnly(fleet, fleetv1alpha1.StrategyWorkload)},
			{name: "Dedicated", fleet: fleet, svcs: strategyOnly(fleet, fleetv1alpha1.StrategyDedicated)},
			{name: "Dedicated-all-feasible", fleet: allServices, svcs: func() []*fleetv1alpha1.ManagedService {
				out := ptesting.Services(1000, fleet, 9)
				for _, ms := range out {
					ms.Spec.Placement.Strategy = fleetv1alpha1.StrategyDedicated
					ms.Spec.Placement.ClusterSelector, ms.Spec.Placement.MaxLatency, ms.Spec.NodePool = nil, nil, nil
				}
				return out
			}},
		}
		for _, tc := range cases {
			b.Run(fmt.Sprintf("clusters=%d/%s", clusters, tc.name), func(b *testing.B) {
				snap := framework.NewSnapshot(tc.fleet)
				svcs := tc.svcs()
				services := make([]*framework.Service, len(svcs))
				for i, ms := range svcs {
					services[i] = framework.NewService(ms)
				}
				ctx := context.Background()
				now := time.Now()
				var times []time.Duration
				feasible := 0
				b.ReportAllocs()
				i := 0
				cpuStart := cpuTime()
				for b.Loop() {
					svc := services[i%len(services)]
					i++
					start := time.Now()
					d, err := p.Decide(ctx, placement.Request{Service: svc, Snapshot: snap}, now)
					times = append(times, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					feasible += d.Attempts[0].Result.Feasible
				}
				cpu := cpuTime() - cpuStart
				slices.Sort(times)
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(i), "cpu-ns/decision")
				b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(feasible)/float64(i), "feasible/decision")
			})
		}
	}
}

func strategyOnly(fleet []*fleetv1alpha1.MemberCluster, s fleetv1alpha1.Strategy) func() []*fleetv1alpha1.ManagedService {
	return func() []*fleetv1alpha1.ManagedService {
		out := ptesting.Services(1000, fleet, 9)
		for _, ms := range out {
			ms.Spec.Placement.Strategy = s
			if s != fleetv1alpha1.StrategyDedicated {
				ms.Spec.Placement.ClusterSelector = nil
			}
		}
		return out
	}
}

// BenchmarkSnapshot builds a snapshot of C clusters (the controller does
// this when members change).
func BenchmarkSnapshot(b *testing.B) {
	for _, clusters := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clusters=%d", clusters), func(b *testing.B) {
			fleet := benchFleet(clusters)
			b.ReportAllocs()
			for b.Loop() {
				framework.NewSnapshot(fleet)
			}
		})
	}
}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
