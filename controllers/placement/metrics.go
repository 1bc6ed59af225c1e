package placement

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Decision results, the "result" label of berth_placement_decisions_total.
const (
	ResultScheduled     = "scheduled"
	ResultFallback      = "fallback"
	ResultUnschedulable = "unschedulable"
	ResultReplaced      = "replaced"
	ResultReplaceFailed = "replace_failed"
	ResultKept          = "kept"
	ResultClusterGone   = "cluster_gone"
	// ResultRestored is a decision restored from the provider ServiceWork
	// after status.placement was lost.
	ResultRestored = "restored"
	ResultError    = "error"
)

var (
	// DecisionsTotal counts decisions by strategy and result.
	DecisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_placement_decisions_total",
		Help: "Placement decisions by strategy and result.",
	}, []string{"strategy", "result"})

	// DecisionDuration is the time to run one strategy's profile.
	DecisionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "berth_placement_decision_duration_seconds",
		Help:    "Time to run one strategy's placement profile over the fleet.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 2, 18), // 10µs .. 1.3s
	}, []string{"strategy"})

	// UnschedulableTotal counts unschedulable decisions by the filter that
	// rejected the most promising cluster.
	UnschedulableTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_placement_unschedulable_total",
		Help: "Unschedulable placement decisions by the filter plugin that rejected the most promising cluster.",
	}, []string{"plugin"})
)

func init() {
	metrics.Registry.MustRegister(DecisionsTotal, DecisionDuration, UnschedulableTotal)
}
