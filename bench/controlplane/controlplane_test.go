package controlplane

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
)

// TestSmoke runs the whole control-path bench at a tiny size against a real
// apiserver and the real berth-hub binary, so the bench cannot rot. The
// numbers it measures are printed, not judged.
func TestSmoke(t *testing.T) {
	g := NewWithT(t)
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir()
	g.Expect(framework.BuildBinaries(ctx, bin, "berth-hub")).To(Succeed())

	doc, err := Run(ctx, Options{
		Members:   []int{4, 3},
		Services:  6,
		HubBinary: filepath.Join(bin, "berth-hub"),
		WorkDir:   t.TempDir(),
		Timeout:   2 * time.Minute,
		Progress:  testWriter{t},
	})
	g.Expect(err).NotTo(HaveOccurred())
	cp := doc.ControlPlane
	g.Expect(cp.Registration).To(HaveLen(2))
	g.Expect(cp.Registration[0].Members).To(Equal(3), "sizes run smallest first")
	for i, n := range []int{3, 4} {
		reg, prop, ready := cp.Registration[i], cp.Propagated[i], cp.Propagation[i]
		g.Expect(reg.Latency.Count).To(BeEquivalentTo(n))
		g.Expect(reg.Latency.Errors).To(BeZero())
		g.Expect(reg.Latency.P50US).To(BeNumerically(">", 0))
		g.Expect(prop.Latency.Count).To(BeEquivalentTo(6))
		g.Expect(ready.Latency.Count).To(BeEquivalentTo(6))
		// Ready needs Propagated first.
		g.Expect(ready.Latency.MaxUS).To(BeNumerically(">=", prop.Latency.P50US))
		mem := cp.HubMemory[i]
		g.Expect(mem.RSSBytes).To(BeNumerically(">", 10<<20), "berth-hub's RSS is read from /proc")
		g.Expect(mem.PeakRSSBytes).To(BeNumerically(">=", mem.RSSBytes))
		g.Expect(mem.CPUSeconds).To(BeNumerically(">", 0))
		t.Logf("%d members: registration p50 %s, propagated p50 %s, ready p50 %s, hub RSS %.0f MiB",
			n, us(reg.Latency.P50US), us(prop.Latency.P50US), us(ready.Latency.P50US), mib(mem.RSSBytes))
	}
}

func TestOptionsNameTheField(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "berth-hub")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Members: []int{2}, HubBinary: bin}, "field members: each fleet size must be at least 3"},
		{Options{Services: -1, HubBinary: bin}, "field services: must not be negative"},
		{Options{}, "field hub-binary: the berth-hub executable is required"},
		{Options{HubBinary: bin + "-missing"}, "field hub-binary: "},
		{Options{HubBinary: bin, LeaseDuration: time.Millisecond}, "field lease-duration: must be at least 1s"},
	} {
		err := tc.opts.defaults()
		if err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("defaults(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
}

func TestFleetShape(t *testing.T) {
	g := NewWithT(t)
	members := memberClusters(21)
	roles := map[fleetv1alpha1.MemberRole]int{}
	for _, m := range members {
		roles[m.(*fleetv1alpha1.MemberCluster).Spec.Role]++
	}
	g.Expect(roles).To(Equal(map[fleetv1alpha1.MemberRole]int{
		fleetv1alpha1.RoleManagement: 1, fleetv1alpha1.RoleServices: 2, fleetv1alpha1.RoleWorkload: 18,
	}))
	services := managedServices(9, members)
	strategies := map[fleetv1alpha1.Strategy]int{}
	engines := map[fleetv1alpha1.Engine]int{}
	for _, o := range services {
		s := o.(*fleetv1alpha1.ManagedService)
		strategies[s.Spec.Placement.Strategy]++
		engines[s.Spec.Engine]++
		g.Expect(s.Spec.Consumer.Cluster).NotTo(Or(Equal("m-0000"), Equal("m-0001")), "consumers are Workload members")
	}
	g.Expect(strategies).To(HaveLen(3))
	g.Expect(engines).To(HaveLen(3))
	for _, n := range strategies {
		g.Expect(n).To(Equal(3), "every strategy meets every engine")
	}
}

func TestProcStats(t *testing.T) {
	g := NewWithT(t)
	rss, hwm, err := procStatus(os.Getpid())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rss).To(BeNumerically(">", 1<<20))
	g.Expect(hwm).To(BeNumerically(">=", rss))
	// Burn a little CPU so that the counter moves past zero.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, err := procCPUSeconds(os.Getpid())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cpu).To(BeNumerically(">", 0))
	_, _, err = procStatus(1 << 30)
	g.Expect(err).To(HaveOccurred())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestParseReconciles(t *testing.T) {
	g := NewWithT(t)
	text := `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="membercluster",result="error"} 2
controller_runtime_reconcile_total{controller="membercluster",result="success"} 40
controller_runtime_reconcile_total{controller="placement",result="success"} 7
controller_runtime_reconcile_total{controller="placement",result="requeue"} 0
workqueue_depth{controller="placement",name="placement"} 3
`
	got, err := parseReconciles(strings.NewReader(text))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(map[string]int64{"membercluster": 42, "placement": 7}))
	_, err = parseReconciles(strings.NewReader(`controller_runtime_reconcile_total{controller="x",result="success"} many` + "\n"))
	g.Expect(err).To(MatchError(ContainSubstring("many")))
}
