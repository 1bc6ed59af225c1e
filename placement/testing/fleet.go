package testing

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Fleet generates n synthetic members, deterministic for a seed:
//
//   - member 0 has role Management, one in five has role Services, the
//     rest Workload; Services members carry a region label (4 regions);
//   - each has a "default" pool (64 cpu, 256Gi) and a "database" pool
//     (32 cpu, 128Gi, label pool=database, taint dedicated=database:NoSchedule),
//     20..70% requested;
//   - operators are a random subset; 5% are unavailable, 2% carry a NoPlace
//     taint and 5% a PreferNoPlace taint;
//   - every Workload member has measured the RTT to every Management and
//     Services member (p50 0.2..5ms, p99 twice that).
func Fleet(n int, seed uint64) []*fleetv1alpha1.MemberCluster {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*fleetv1alpha1.MemberCluster, n)
	var remote []string
	for i := range n {
		name := fmt.Sprintf("m-%05d", i)
		b := NewMember(name)
		switch {
		case i == 0:
			b.Role(fleetv1alpha1.RoleManagement)
			remote = append(remote, name)
		case i%5 == 1:
			b.Role(fleetv1alpha1.RoleServices).Label("region", fmt.Sprintf("r%d", i%4))
			remote = append(remote, name)
		}
		used := func(total float64) string { return fmt.Sprintf("%.1f", total*(0.2+0.5*r.Float64())) }
		b.Pool("default", "64", "256Gi", Requested(used(64), used(256)+"Gi"))
		b.Pool("database", "32", "128Gi", Requested(used(32), used(128)+"Gi"),
			PoolLabel("pool", "database"), PoolTaint("dedicated", "database", corev1.TaintEffectNoSchedule))
		var ops []fleetv1alpha1.Operator
		for _, op := range []fleetv1alpha1.Operator{
			fleetv1alpha1.OperatorZalandoPostgres, fleetv1alpha1.OperatorSpotahomeRedis, fleetv1alpha1.OperatorRabbitMQ,
		} {
			if r.IntN(2) == 0 {
				ops = append(ops, op)
			}
		}
		b.Operators(ops...)
		if r.IntN(100) < 5 {
			b.Available(false)
		}
		switch x := r.IntN(100); {
		case x < 2:
			b.Taint("fleet.berth.io/maintenance", "", fleetv1alpha1.TaintNoPlace)
		case x < 7:
			b.Taint("fleet.berth.io/draining", "", fleetv1alpha1.TaintPreferNoPlace)
		}
		out[i] = b.Build()
	}
	for _, mc := range out {
		if mc.Spec.Role != fleetv1alpha1.RoleWorkload {
			continue
		}
		for _, peer := range remote {
			p50 := time.Duration(200+r.IntN(4800)) * time.Microsecond
			mc.Status.Latencies = append(mc.Status.Latencies, fleetv1alpha1.PeerLatency{
				Peer: peer, P50: metav1.Duration{Duration: p50}, P99: metav1.Duration{Duration: 2 * p50}, Samples: 100, MeasuredAt: MeasuredAt,
			})
		}
	}
	return out
}

// Services generates n services consumed from the Workload members of
// fleet, deterministic for a seed: 60% Workload, 10% Management, 30%
// Dedicated (half of them with a region selector); 1 or 3 replicas of 0.5..2
// cpu and 1..4Gi; 30% on the database pool; 20% with maxLatency 4ms; 100
// tenant namespaces.
func Services(n int, fleet []*fleetv1alpha1.MemberCluster, seed uint64) []*fleetv1alpha1.ManagedService {
	r := rand.New(rand.NewPCG(seed, 2))
	var consumers []string
	for _, mc := range fleet {
		if mc.Spec.Role == fleetv1alpha1.RoleWorkload {
			consumers = append(consumers, mc.Name)
		}
	}
	if len(consumers) == 0 {
		consumers = []string{fleet[0].Name}
	}
	engines := []struct {
		e fleetv1alpha1.Engine
		v string
	}{{fleetv1alpha1.EnginePostgreSQL, "16"}, {fleetv1alpha1.EngineRedis, "7.2"}, {fleetv1alpha1.EngineRabbitMQ, "4.0"}}
	out := make([]*fleetv1alpha1.ManagedService, n)
	for i := range n {
		e := engines[r.IntN(len(engines))]
		b := NewService(fmt.Sprintf("tenant-%02d", r.IntN(100)), fmt.Sprintf("svc-%05d", i)).
			Engine(e.e, e.v).
			Consumer(consumers[r.IntN(len(consumers))]).
			Replicas([]int32{1, 3}[r.IntN(2)]).
			Requests(fmt.Sprintf("%dm", 500+r.IntN(1500)), fmt.Sprintf("%dMi", 1024+r.IntN(3072)))
		switch x := r.IntN(10); {
		case x < 6:
			b.Strategy(fleetv1alpha1.StrategyWorkload)
		case x < 7:
			b.Strategy(fleetv1alpha1.StrategyManagement)
		default:
			b.Strategy(fleetv1alpha1.StrategyDedicated)
			if r.IntN(2) == 0 {
				b.ClusterSelector("region", fmt.Sprintf("r%d", r.IntN(4)))
			}
		}
		if r.IntN(10) < 3 {
			b.NodePool(map[string]string{"pool": "database"}, corev1.Toleration{
				Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "database", Effect: corev1.TaintEffectNoSchedule,
			})
		}
		if r.IntN(5) == 0 {
			b.MaxLatency(4 * time.Millisecond)
		}
		out[i] = b.Build()
	}
	return out
}
