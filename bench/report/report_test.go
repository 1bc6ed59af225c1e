package report

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/berth-io/berth/bench/results"
)

// measurementFrom records values (µs) into a real histogram and summarises it.
func measurementFrom(t *testing.T, p results.Placement, s results.Scenario, values []int64) results.Measurement {
	t.Helper()
	h := results.NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := results.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	sum := results.Summarize(h, time.Second, 0)
	return results.Measurement{Placement: p, Scenario: s, Summary: sum, Repeats: []results.Summary{sum}, Histogram: enc}
}

func spread(center int64, n int) []int64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]int64, n)
	for i := range out {
		out[i] = center + r.Int64N(center/5+1)
	}
	return out
}

// renderDoc is a document shaped like a real run, with histograms recorded
// from generated values; it tests rendering only.
func renderDoc(t *testing.T) *results.Document {
	t.Helper()
	e := results.EngineResult{Engine: "Redis", Version: "7.0.15"}
	centers := map[results.Placement]int64{results.PlacementBaseline: 30, results.PlacementWorkload: 40,
		results.PlacementManagement: 1100, results.PlacementDedicated: 1150}
	for _, s := range results.Scenarios {
		for _, p := range results.Placements {
			c := centers[p]
			if s == results.ScenarioChatty {
				c *= 20
			}
			e.Measurements = append(e.Measurements, measurementFrom(t, p, s, spread(c, 500)))
		}
	}
	e.ComputeRatios()
	return &results.Document{
		Schema:  results.Schema,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Finished: time.Date(2026, 1, 2, 3, 9, 5, 0, time.UTC),
		Machine:  results.Machine{Hostname: "h", Cores: 2, CPU: "cpu", MemoryBytes: 24 << 30, GoVersion: "go1.26"},
		Versions: map[string]string{"haproxy": "HAProxy version 2.6.12"},
		DataPlane: []results.DataPlaneRun{{
			Profile:  results.LinkProfile{Name: "0.5ms", OneWay: 500 * time.Microsecond, Jitter: 50 * time.Microsecond, Emulation: "userspace-relay"},
			Settings: results.DataPlaneSettings{Warmup: 10, MaxOps: 100, Duration: time.Second, Repeats: 1, Concurrency: 8, ChattyOps: map[string]int{"Redis": 20}},
			Paths:    map[results.Placement]string{results.PlacementWorkload: "app → bridge → server"},
			Engines:  []results.EngineResult{e, {Engine: "RabbitMQ", Skipped: "rabbitmq-server not found"}},
		}},
		ControlPlane: &results.ControlPlane{
			Propagation: []results.MemberSeries{{Members: 100, Latency: results.Summary{Count: 100, P50US: 90000, P99US: 300000}}, {Members: 10, Latency: results.Summary{Count: 10, P50US: 80000, P99US: 120000}}},
			HubMemory:   []results.HubMemory{{Members: 10, RSSBytes: 80 << 20, PeakRSSBytes: 90 << 20, Reconciles: map[string]int64{"placement": 3, "membercluster": 12}}},
		},
	}
}

func TestGenerate(t *testing.T) {
	g := NewWithT(t)
	in := t.TempDir()
	g.Expect(results.Write(filepath.Join(in, "dataplane.json"), renderDoc(t))).To(Succeed())
	out := filepath.Join(t.TempDir(), "report")

	files, err := Generate(in, out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(files).To(ConsistOf(
		filepath.Join(out, FileName),
		filepath.Join(out, "dataplane-0.5ms-redis-cdf.svg"),
		filepath.Join(out, "controlplane-latency-vs-members.svg"),
	))
	for _, f := range files[1:] {
		b, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(b)).To(HavePrefix("<?xml"))
		g.Expect(string(b)).To(ContainSubstring("<svg"))
	}
	b, err := os.ReadFile(filepath.Join(out, FileName))
	g.Expect(err).NotTo(HaveOccurred())
	md := string(b)
	for _, want := range []string{
		"### Link profile 0.5ms",
		"userspace-relay",
		"| latency: one request, p50 / p99 (ms) | Redis: GET |",
		"| chatty-transaction cost, p50 / p99 (ms) | Redis: 20 sequential GETs |",
		"| throughput at 8 connections (ops/s) | Redis: GET |",
		"**RabbitMQ skipped:** rabbitmq-server not found",
		"![Redis latency CDF, profile 0.5ms](dataplane-0.5ms-redis-cdf.svg)",
		"### Propagation latency (ready) against members",
		"| 10 | 10 | 0 | 80.0 |",
		"### Hub memory",
		"| 10 | 0 | – | – | 80.0 | 90.0 | – | membercluster 12, placement 3 |",
		"No blast-radius results",
		"HAProxy version 2.6.12",
		"[../", // the raw JSON is linked relative to the report
	} {
		g.Expect(md).To(ContainSubstring(want))
	}
	// Rows of the engine table are in placement order within a scenario.
	i := strings.Index(md, "| Baseline | single request |")
	j := strings.Index(md, "| Dedicated | single request |")
	g.Expect(i).To(BeNumerically(">", 0))
	g.Expect(j).To(BeNumerically(">", i))
}

func TestGenerateErrors(t *testing.T) {
	g := NewWithT(t)
	_, err := Generate(filepath.Join(t.TempDir(), "missing"), "")
	g.Expect(err).To(MatchError(ContainSubstring("reading results directory")))
	_, err = Generate(t.TempDir(), "")
	g.Expect(err).To(MatchError(ContainSubstring("no results")))
}

func TestBlastRadius(t *testing.T) {
	g := NewWithT(t)
	doc := &results.Document{Schema: results.Schema, BlastRadius: []results.Outage{{
		Stopped: "management gateway", Method: "SIGKILL of HAProxy", Outage: 3*time.Second + 400*time.Microsecond,
		Interval: 5 * time.Millisecond, RequestTimeout: 200 * time.Millisecond,
		Apps: []results.AppImpact{
			{App: "redis-workload", Engine: "Redis", Placement: results.PlacementWorkload, Requests: 700},
			{App: "redis-management", Engine: "Redis", Placement: results.PlacementManagement, LostService: true,
				Downtime: 3050 * time.Millisecond, Requests: 700, Failed: 600, FirstFailure: 3 * time.Millisecond,
				Recovery: 48 * time.Millisecond, Error: "connect: connection refused"},
			{App: "redis-dedicated", Engine: "Redis", Placement: results.PlacementDedicated, LostService: true,
				Downtime: 9 * time.Second, Requests: 10, Failed: 9, StillFailing: true},
		},
		Component: &results.AppImpact{App: "probe inside mgmt-gw", Engine: "Redis", Placement: results.PlacementManagement,
			LostService: true, Downtime: 3 * time.Second, Requests: 150, Failed: 140, Recovery: 40 * time.Millisecond},
	}}}
	var md strings.Builder
	writeBlastRadius(&md, []Input{{File: "blastradius.json", Doc: doc}})
	out := md.String()
	for _, want := range []string{
		"### Stopped: management gateway",
		"SIGKILL of HAProxy. Down for 3s; each app sends a request every 5ms (timeout 200ms)",
		"| redis-workload | Redis | Workload | no | – | 0 / 700 | – | – | – |",
		"| redis-management | Redis | Management | **yes** | 3.05s | 600 / 700 | 3ms | 48ms | connect: connection refused |",
		"| redis-dedicated | Redis | Dedicated | **yes, still failing** | 9s | 9 / 10 | 0s | – | – |",
		"| *probe inside mgmt-gw* (the stopped component) | Redis | Management | **yes** | 3s | 140 / 150 |",
	} {
		g.Expect(out).To(ContainSubstring(want))
	}
}
