package membercluster

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Metric names.
const (
	// MetricMembers counts members by condition type and status.
	MetricMembers = "berth_member_clusters"
	// MetricLeaseAge is the age of each member's spoke Lease.
	MetricLeaseAge = "berth_member_lease_age_seconds"
	// MetricRegistrationLatency is the time from a CAPI Cluster's
	// ControlPlaneInitialized to its member's first Available=True.
	MetricRegistrationLatency = "berth_member_registration_latency_seconds"
)

// Metrics are the member metrics. Counts and ages are computed from the
// cache when scraped, so they are never stale.
type Metrics struct {
	reader client.Reader
	// RegistrationLatency is observed once per member from CAPI.
	RegistrationLatency prometheus.Histogram

	members  *prometheus.Desc
	leaseAge *prometheus.Desc
}

// NewMetrics returns the member metrics, reading members and Leases from
// reader (the manager's cache).
func NewMetrics(reader client.Reader) *Metrics {
	return &Metrics{
		reader: reader,
		RegistrationLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricRegistrationLatency,
			Help:    "Seconds from a Cluster API Cluster's ControlPlaneInitialized condition to its MemberCluster's first Available=True.",
			Buckets: []float64{0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600},
		}),
		members: prometheus.NewDesc(MetricMembers,
			"MemberClusters by condition type and status (status None: the condition is not set).",
			[]string{"condition", "status"}, nil),
		leaseAge: prometheus.NewDesc(MetricLeaseAge,
			"Seconds since each member's spoke last renewed its Lease.",
			[]string{"member"}, nil),
	}
}

// Register adds the metrics to reg. A registry that already holds them (a
// second manager in one process) keeps the first ones.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.RegistrationLatency, m} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				continue
			}
			return err
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.members
	ch <- m.leaseAge
}

var memberConditions = []string{fleetv1alpha1.ConditionRegistered, fleetv1alpha1.ConditionJoined, fleetv1alpha1.ConditionAvailable}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	members := &fleetv1alpha1.MemberClusterList{}
	if err := m.reader.List(ctx, members, client.UnsafeDisableDeepCopy); err == nil {
		counts := map[[2]string]int{}
		for _, t := range memberConditions {
			for _, s := range []string{string(metav1.ConditionTrue), string(metav1.ConditionFalse), string(metav1.ConditionUnknown), "None"} {
				counts[[2]string{t, s}] = 0
			}
		}
		for _, mc := range members.Items {
			for _, t := range memberConditions {
				status := "None"
				for _, c := range mc.Status.Conditions {
					if c.Type == t {
						status = string(c.Status)
					}
				}
				counts[[2]string{t, status}]++
			}
		}
		for k, v := range counts {
			ch <- prometheus.MustNewConstMetric(m.members, prometheus.GaugeValue, float64(v), k[0], k[1])
		}
	}

	leases := &coordinationv1.LeaseList{}
	if err := m.reader.List(ctx, leases, client.UnsafeDisableDeepCopy); err == nil {
		now := time.Now()
		for i := range leases.Items {
			l := &leases.Items[i]
			member := MemberForNamespace(l.Namespace)
			if l.Name != LeaseName || member == "" {
				continue
			}
			ch <- prometheus.MustNewConstMetric(m.leaseAge, prometheus.GaugeValue, now.Sub(leaseRenewTime(l)).Seconds(), member)
		}
	}
}
