package dataplane

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/berth-io/berth/bench/netlab"
	"github.com/berth-io/berth/bench/report"
	"github.com/berth-io/berth/bench/results"
)

// requireLab skips (locally) or fails (CI=true) when the smoke test cannot
// run: it needs root and the Debian packages .ci/run installs.
func requireLab(t *testing.T) {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	missing := func(what string) {
		t.Helper()
		if ci {
			t.Fatalf("bench smoke test cannot run in CI: %s", what)
		}
		t.Skipf("bench smoke test skipped: %s", what)
	}
	if os.Geteuid() != 0 {
		missing("it must run as root (network namespaces)")
	}
	for _, bin := range []string{"ip", "redis-server", "haproxy", "setpriv"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(bin + " is not installed (hack/bench/setup.sh installs the bench's packages)")
		}
	}
	if _, err := pgBinDir(); err != nil {
		missing(err.Error())
	}
}

// labNamespaces lists this process's lab namespaces.
func labNamespaces(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil
	}
	var out []string
	prefix := netlab.Prefix + strconv.Itoa(os.Getpid()) + "-"
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// failOnLeftovers fails t if any namespace of a lab is left when it ends,
// and removes those.
func failOnLeftovers(t *testing.T) {
	t.Cleanup(func() {
		for _, ns := range labNamespaces(t) {
			_ = exec.Command("ip", "netns", "delete", ns).Run()
			t.Errorf("namespace %s was left behind", ns)
		}
	})
}

// TestSmoke runs the whole pipeline with Redis and PostgreSQL at profiles
// 0 and 0.5ms with tiny measurements, then writes the report.
func TestSmoke(t *testing.T) {
	requireLab(t)
	g := NewWithT(t)
	failOnLeftovers(t)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	doc, err := Run(ctx, Options{
		Profiles:    []string{"0", "0.5ms"},
		Engines:     []string{EngineRedis, EnginePostgres},
		Duration:    250 * time.Millisecond,
		MaxOps:      200,
		Warmup:      20,
		Repeats:     2,
		Concurrency: 2,
		Required:    true,
		Progress:    testWriter{t},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(labNamespaces(t)).To(BeEmpty(), "Run must remove its namespaces")
	g.Expect(doc.DataPlane).To(HaveLen(2))

	p50 := func(run results.DataPlaneRun, engine string, pl results.Placement) float64 {
		for i := range run.Engines {
			if run.Engines[i].Engine == engine {
				m := run.Engines[i].Find(pl, results.ScenarioRTT)
				g.Expect(m).NotTo(BeNil())
				return m.Summary.P50US
			}
		}
		t.Fatalf("engine %s missing at profile %s", engine, run.Profile.Name)
		return 0
	}
	for _, run := range doc.DataPlane {
		g.Expect(run.Engines).To(HaveLen(2))
		for _, e := range run.Engines {
			g.Expect(e.Skipped).To(BeEmpty(), "%s skipped at profile %s", e.Engine, run.Profile.Name)
			g.Expect(e.Version).NotTo(BeEmpty())
			g.Expect(e.Measurements).To(HaveLen(len(results.Placements) * len(results.Scenarios)))
			for _, m := range e.Measurements {
				g.Expect(m.Error).To(BeEmpty(), "%s %s %s", e.Engine, m.Placement, m.Scenario)
				g.Expect(m.Summary.Count).To(BeNumerically(">", 0))
				g.Expect(m.Repeats).To(HaveLen(2))
			}
		}
		t.Logf("profile %s (%s): Redis GET p50 baseline %.0fµs, workload %.0fµs, management %.0fµs, dedicated %.0fµs",
			run.Profile.Name, run.Profile.Emulation,
			p50(run, "Redis", results.PlacementBaseline), p50(run, "Redis", results.PlacementWorkload),
			p50(run, "Redis", results.PlacementManagement), p50(run, "Redis", results.PlacementDedicated))
	}

	// The 0.5ms profile adds 2 × 0.5 ms per round trip: a request through a
	// gateway must take at least ~0.8 ms longer than a co-located one.
	slow := doc.DataPlane[1]
	g.Expect(slow.Profile.Name).To(Equal("0.5ms"))
	for _, engine := range []string{"Redis", "PostgreSQL"} {
		colo := p50(slow, engine, results.PlacementWorkload)
		for _, pl := range []results.Placement{results.PlacementManagement, results.PlacementDedicated} {
			g.Expect(p50(slow, engine, pl)-colo).To(BeNumerically(">=", 800),
				"%s %s p50 must exceed the co-located p50 by the link's round trip", engine, pl)
		}
	}

	dir := t.TempDir()
	path, err := WriteResults(dir, doc)
	g.Expect(err).NotTo(HaveOccurred())
	files, err := report.Generate(dir, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(files).To(ContainElement(filepath.Join(dir, report.FileName)))
	for _, f := range []string{path, filepath.Join(dir, report.FileName),
		filepath.Join(dir, "dataplane-0-redis-cdf.svg"), filepath.Join(dir, "dataplane-0.5ms-postgresql-cdf.svg")} {
		st, err := os.Stat(f)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(st.Size()).To(BeNumerically(">", 200), f)
	}
	md, err := os.ReadFile(filepath.Join(dir, report.FileName))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(md)).To(ContainSubstring("Link profile 0.5ms"))
	g.Expect(string(md)).To(ContainSubstring("chatty-transaction cost"))
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
