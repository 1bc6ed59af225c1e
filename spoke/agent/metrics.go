package agent

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Metrics carry a member label so that several in-process spokes (tests,
// benchmarks) can share the registry.
var (
	leaseRenewTime = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_spoke_lease_renew_timestamp_seconds",
		Help: "Unix time of the last successful heartbeat Lease renewal.",
	}, []string{"member"})
	statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_spoke_status_writes_total",
		Help: "MemberCluster status writes the hub accepted.",
	}, []string{"member"})
	peerRTT = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_spoke_peer_rtt_seconds",
		Help: "Published round-trip time to a peer's probe endpoint.",
	}, []string{"member", "peer", "quantile"})
	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		metrics.Registry.MustRegister(leaseRenewTime, statusWrites, peerRTT)
	})
}

func recordLatencies(member string, l []fleetv1alpha1.PeerLatency) {
	peerRTT.DeletePartialMatch(prometheus.Labels{"member": member})
	for _, p := range l {
		peerRTT.WithLabelValues(member, p.Peer, "0.5").Set(p.P50.Seconds())
		peerRTT.WithLabelValues(member, p.Peer, "0.99").Set(p.P99.Seconds())
	}
}
