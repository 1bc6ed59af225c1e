package hub

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Names of the hub's state metrics, computed from its cache when scraped.
const (
	// MetricServiceReady is 1 for each ManagedService whose Ready
	// condition is True, else 0.
	MetricServiceReady = "berth_managed_service_ready"
	// MetricServiceWorks counts ServiceWorks by member, condition type and
	// status (status None: the condition is not set).
	MetricServiceWorks = "berth_service_works"
)

// workConditions are the ServiceWork conditions berth_service_works counts.
var workConditions = []string{
	fleetv1alpha1.ConditionApplied, fleetv1alpha1.ConditionAvailable,
	fleetv1alpha1.ConditionDegraded, fleetv1alpha1.ConditionConflict,
}

// StateMetrics export the state of services and works as the hub's cache
// holds it: what the PrometheusRule of the Helm chart alerts on (a service
// not Ready for long, works in conflict). Being computed at scrape time,
// they are never stale and need no bookkeeping in the controllers.
type StateMetrics struct {
	reader       client.Reader
	serviceReady *prometheus.Desc
	works        *prometheus.Desc
}

// NewStateMetrics reads from reader, the manager's cache.
func NewStateMetrics(reader client.Reader) *StateMetrics {
	return &StateMetrics{
		reader: reader,
		serviceReady: prometheus.NewDesc(MetricServiceReady,
			"1 when the ManagedService's Ready condition is True, else 0; cluster is where it is placed.",
			[]string{"namespace", "name", "engine", "cluster"}, nil),
		works: prometheus.NewDesc(MetricServiceWorks,
			"ServiceWorks by member, condition type and status (status None: the condition is not set).",
			[]string{"member", "condition", "status"}, nil),
	}
}

// Register adds the metrics to reg; a registry that already holds them
// keeps the first ones.
func (m *StateMetrics) Register(reg prometheus.Registerer) error {
	if err := reg.Register(m); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return err
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (m *StateMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.serviceReady
	ch <- m.works
}

// Collect implements prometheus.Collector.
func (m *StateMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	services := &fleetv1alpha1.ManagedServiceList{}
	if err := m.reader.List(ctx, services, client.UnsafeDisableDeepCopy); err == nil {
		for i := range services.Items {
			ms := &services.Items[i]
			ready := 0.0
			if meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionReady) {
				ready = 1
			}
			ch <- prometheus.MustNewConstMetric(m.serviceReady, prometheus.GaugeValue, ready,
				ms.Namespace, ms.Name, string(ms.Spec.Engine), ms.Status.Placement.Cluster)
		}
	}

	works := &fleetv1alpha1.ServiceWorkList{}
	if err := m.reader.List(ctx, works, client.UnsafeDisableDeepCopy); err == nil {
		for k, v := range countWorks(works.Items) {
			ch <- prometheus.MustNewConstMetric(m.works, prometheus.GaugeValue, float64(v), k[0], k[1], k[2])
		}
	}
}

// countWorks counts works by member, condition type and status; every
// status of every member with a work is present, with 0 where no work has
// it.
func countWorks(items []fleetv1alpha1.ServiceWork) map[[3]string]int {
	counts := map[[3]string]int{}
	statuses := []string{string(metav1.ConditionTrue), string(metav1.ConditionFalse), string(metav1.ConditionUnknown), "None"}
	for i := range items {
		w := &items[i]
		member := memberOfWork(w)
		for _, t := range workConditions {
			for _, s := range statuses {
				if _, ok := counts[[3]string{member, t, s}]; !ok {
					counts[[3]string{member, t, s}] = 0
				}
			}
			status := "None"
			if c := meta.FindStatusCondition(w.Status.Conditions, t); c != nil {
				status = string(c.Status)
			}
			counts[[3]string{member, t, status}]++
		}
	}
	return counts
}

// memberOfWork is the member a ServiceWork is for: its member label, else
// the name its hub namespace carries.
func memberOfWork(w *fleetv1alpha1.ServiceWork) string {
	if m := w.Labels[fleetv1alpha1.LabelMember]; m != "" {
		return m
	}
	if m, ok := strings.CutPrefix(w.Namespace, fleetv1alpha1.MemberNamespacePrefix); ok && m != "" {
		return m
	}
	return w.Namespace
}
