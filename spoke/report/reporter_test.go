package report

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/inventory"
)

// wire counts the requests a client sends, by method, as the apiserver's
// apiserver_request_total would.
type wire struct {
	mu       sync.Mutex
	byMethod map[string]int
}

func (w *wire) RoundTrip(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		w.mu.Lock()
		w.byMethod[req.Method]++
		w.mu.Unlock()
		return next.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// writes are the mutating requests sent.
func (w *wire) writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byMethod[http.MethodPost] + w.byMethod[http.MethodPut] + w.byMethod[http.MethodPatch] + w.byMethod[http.MethodDelete]
}

func (w *wire) reads() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byMethod[http.MethodGet]
}

// countingClient is a hub client whose every request is counted.
func countingClient(g Gomega) (client.Client, *wire) {
	w := &wire{byMethod: map[string]int{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = w.RoundTrip
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c, w
}

// snapshot is a one-pool inventory; cpu may be spelt any way.
func snapshot(cpu string) inventory.Snapshot {
	return inventory.Snapshot{
		NodePools: []fleetv1alpha1.NodePool{{
			Name: "db", NodeCount: 3,
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("24"), corev1.ResourceMemory: resource.MustParse("96Gi")},
			Requested:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("4Gi")},
		}},
		Capabilities: fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{fleetv1alpha1.OperatorZalandoPostgres}},
		// Never reported to the hub.
		OperatorNamespaces: map[fleetv1alpha1.Operator][]string{fleetv1alpha1.OperatorZalandoPostgres: {"postgres-operator"}},
	}
}

// round is one prober round: p50 jitters around base by jitter, with a
// fresh measuredAt and sample count.
func round(i int, base, jitter time.Duration) []fleetv1alpha1.PeerLatency {
	d := base + time.Duration(i%5-2)*jitter/2
	return []fleetv1alpha1.PeerLatency{
		{
			Peer: "beta", P50: metav1.Duration{Duration: d}, P99: metav1.Duration{Duration: 2 * base},
			Samples: int32(10 + i), MeasuredAt: metav1.NewTime(time.Now().Truncate(time.Second)),
		},
		{
			Peer: "gamma", P50: metav1.Duration{Duration: 300 * time.Microsecond}, P99: metav1.Duration{Duration: 500 * time.Microsecond},
			Samples: int32(10 + i), MeasuredAt: metav1.NewTime(time.Now().Truncate(time.Second)),
		},
	}
}

// runReporter starts r until the returned stop is called.
func runReporter(ctx context.Context, g Gomega, r *Reporter) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	return func() {
		cancel()
		g.Expect(<-done).To(Succeed())
	}
}

// TestReporterIsQuietAtRest runs a Reporter against a real apiserver through
// a client that counts every request on the wire. Once the status is
// written, a stable member (the same inventory, re-published with its
// quantities spelt differently; latencies jittering within the policy)
// sends no write over many report and resync periods; a material change is
// one write; a wiped status is restored at the next resync; and a restarted
// Reporter with nothing new to say writes nothing.
func TestReporterIsQuietAtRest(t *testing.T) {
	needEnvtest(t)
	g := NewWithT(t)
	ctx := t.Context()
	const member = "quiet-alpha"
	g.Expect(env.Client.Create(ctx, &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: member}})).To(Succeed())
	getMember := func(g Gomega) *fleetv1alpha1.MemberCluster {
		mc := &fleetv1alpha1.MemberCluster{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: member}, mc)).To(Succeed())
		return mc
	}

	const (
		period = 50 * time.Millisecond
		resync = 300 * time.Millisecond
	)
	c, w := countingClient(g)
	newReporter := func() *Reporter {
		return &Reporter{Client: c, Member: member, AgentVersion: "v1.0.0", ProbeEndpoint: "10.0.0.1:9473", MinInterval: period, Resync: resync}
	}
	r := newReporter()
	stop := runReporter(ctx, g, r)
	// Nothing is written before the first inventory, so this is one write.
	r.SetLatencies(round(0, 2*time.Millisecond, 0))
	r.SetInventory(snapshot("2"))
	g.Eventually(func(g Gomega) {
		st := getMember(g).Status
		g.Expect(st.NodePools).To(HaveLen(1))
		g.Expect(st.Latencies).To(HaveLen(2))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	g.Eventually(r.Writes).Should(Equal(1))

	// At rest: 40 report periods, 6 resyncs.
	rv := getMember(g).ResourceVersion
	writes, reads := w.writes(), w.reads()
	for i := range 40 {
		cpu := "2"
		if i%2 == 0 {
			cpu = "2000m"
		}
		r.SetInventory(snapshot(cpu))
		// ±10% around 2ms, ±50µs around 300µs.
		r.SetLatencies(round(i, 2*time.Millisecond, 200*time.Microsecond))
		time.Sleep(period)
	}
	time.Sleep(resync)
	t.Logf("at rest for %s: %d writes, %d reads (resync checks)", 41*period+resync, w.writes()-writes, w.reads()-reads)
	g.Expect(w.writes()-writes).To(BeZero(), "a stable member writes nothing")
	g.Expect(r.Writes()).To(Equal(1))
	g.Expect(getMember(g).ResourceVersion).To(Equal(rv))
	g.Expect(w.reads()-reads).To(BeNumerically(">=", 4), "every resync compared against the hub's copy")

	// A material change is one write.
	r.SetLatencies(round(0, 5*time.Millisecond, 0))
	g.Eventually(func(g Gomega) {
		g.Expect(getMember(g).Status.Latencies[0].P50.Duration).To(Equal(5 * time.Millisecond))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	g.Eventually(r.Writes).Should(Equal(2))
	g.Consistently(r.Writes).WithTimeout(2 * resync).Should(Equal(2))

	// Someone wipes the spoke's figures: the next resync restores them.
	wipe := client.RawPatch(types.MergePatchType, []byte(`{"status":{"latencies":null,"nodePools":null}}`))
	g.Expect(env.Client.Status().Patch(ctx, &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: member}}, wipe)).To(Succeed())
	g.Expect(getMember(g).Status.Latencies).To(BeEmpty())
	g.Eventually(func(g Gomega) {
		st := getMember(g).Status
		g.Expect(st.Latencies).To(HaveLen(2))
		g.Expect(st.NodePools).To(HaveLen(1))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	g.Eventually(r.Writes).Should(Equal(3))
	stop()

	// A restarted Reporter with the same cluster and figures within the
	// policy writes nothing.
	writes, reads = w.writes(), w.reads()
	r2 := newReporter()
	r2.SetLatencies(round(3, 5*time.Millisecond, 400*time.Microsecond))
	r2.SetInventory(snapshot("2000m"))
	stop = runReporter(ctx, g, r2)
	defer stop()
	g.Eventually(w.reads).WithTimeout(10*time.Second).Should(BeNumerically(">", reads), "it read the hub's copy")
	time.Sleep(2 * resync)
	g.Expect(r2.Writes()).To(BeZero())
	g.Expect(w.writes() - writes).To(BeZero())
}
