package dataplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/berth-io/berth/bench"
	"github.com/berth-io/berth/bench/report"
	"github.com/berth-io/berth/bench/results"
	"github.com/berth-io/berth/hack/clustertools"
)

func TestImpact(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	boom := errors.New("connection refused")
	stop, restart, end := at(100), at(1100), at(2000)
	testCases := []struct {
		name    string
		samples []outcome
		want    results.AppImpact
	}{
		{
			name:    "never failed; requests before the stop are not counted",
			samples: []outcome{{at: at(50), err: boom}, {at: at(100)}, {at: at(600)}, {at: at(1500)}},
			want:    results.AppImpact{Requests: 3},
		},
		{
			name: "one outage, recovered after the restart",
			samples: []outcome{{at: at(90)}, {at: at(105), err: boom}, {at: at(600), err: errors.New("timeout")},
				{at: at(1120), err: boom}, {at: at(1130)}, {at: at(1140)}},
			want: results.AppImpact{LostService: true, Requests: 5, Failed: 3, FirstFailure: 5 * time.Millisecond,
				Downtime: 1025 * time.Millisecond, Recovery: 30 * time.Millisecond, Error: "connection refused"},
		},
		{
			name:    "two failure windows: downtime runs to the recovery after the last one",
			samples: []outcome{{at: at(200), err: boom}, {at: at(300)}, {at: at(1200), err: boom}, {at: at(1300)}},
			want: results.AppImpact{LostService: true, Requests: 4, Failed: 2, FirstFailure: 100 * time.Millisecond,
				Downtime: 1100 * time.Millisecond, Recovery: 200 * time.Millisecond, Error: "connection refused"},
		},
		{
			name:    "still failing at the end",
			samples: []outcome{{at: at(150)}, {at: at(400), err: boom}, {at: at(1900), err: boom}, {at: at(2500)}},
			want: results.AppImpact{LostService: true, Requests: 3, Failed: 2, FirstFailure: 300 * time.Millisecond,
				Downtime: 1600 * time.Millisecond, StillFailing: true, Error: "connection refused"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(impact(tc.samples, stop, restart, end)).To(Equal(tc.want))
		})
	}
}

func TestBlastRadiusOptions(t *testing.T) {
	testCases := []struct {
		name    string
		opts    BlastRadiusOptions
		field   string
		wantErr string
	}{
		{name: "defaults", opts: BlastRadiusOptions{}},
		{name: "outage too short", opts: BlastRadiusOptions{Outage: time.Millisecond}, field: "outage", wantErr: "outside"},
		{name: "negative interval", opts: BlastRadiusOptions{Interval: -time.Second}, field: "interval", wantErr: "outside"},
		{name: "request timeout too long", opts: BlastRadiusOptions{RequestTimeout: time.Hour}, field: "request-timeout", wantErr: "outside"},
		{name: "recovery timeout too short", opts: BlastRadiusOptions{RecoveryTimeout: time.Second}, field: "recovery-timeout", wantErr: "outside"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.opts.defaults()
			if tc.field == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(tc.opts.Engines).To(Equal([]string{EngineRedis}))
				g.Expect(tc.opts.Outage).To(Equal(DefaultOutage))
				return
			}
			var fe *bench.FieldError
			g.Expect(errors.As(err, &fe)).To(BeTrue(), "want a FieldError, got %v", err)
			g.Expect(fe.Field).To(Equal(tc.field))
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestLookupExperiments(t *testing.T) {
	testCases := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{name: "run order, duplicates and case folded", in: []string{"ControlPlane", "gateway", "gateway"}, want: []string{ExperimentGateway, ExperimentControlPlane}},
		{name: "one", in: []string{" gateway "}, want: []string{ExperimentGateway}},
		{name: "unknown", in: []string{"etcd"}, wantErr: `field experiments: unknown experiment "etcd"`},
		{name: "empty", in: nil, wantErr: "field experiments: at least one"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := lookupExperiments(tc.in)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// findApp returns the impact of the app at placement pl.
func findApp(t *testing.T, o results.Outage, pl results.Placement) results.AppImpact {
	t.Helper()
	for _, a := range o.Apps {
		if a.Placement == pl {
			return a
		}
	}
	t.Fatalf("no %s app in outage %q", pl, o.Stopped)
	return results.AppImpact{}
}

// TestBlastRadiusSmoke stops the management gateway for a second with
// Redis apps at every placement, and the management control plane when
// the cluster binaries are built (always in CI, where `make test` builds
// them first).
func TestBlastRadiusSmoke(t *testing.T) {
	requireLab(t)
	g := NewWithT(t)
	failOnLeftovers(t)
	experiments := []string{ExperimentGateway, ExperimentControlPlane}
	if _, err := clustertools.Locate(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the control-plane experiment needs the cluster binaries: %v", err)
		}
		t.Logf("skipping the control-plane experiment: %v", err)
		experiments = experiments[:1]
	}

	const outage = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	doc, err := RunBlastRadius(ctx, BlastRadiusOptions{
		Engines:     []string{EngineRedis},
		Experiments: experiments,
		Outage:      outage,
		Progress:    testWriter{t},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(labNamespaces(t)).To(BeEmpty(), "RunBlastRadius must remove its namespaces")
	g.Expect(doc.BlastRadius).To(HaveLen(len(experiments)))

	gw := doc.BlastRadius[0]
	g.Expect(gw.Stopped).To(Equal("management gateway"))
	g.Expect(gw.Apps).To(HaveLen(3))
	g.Expect(gw.Outage).To(BeNumerically(">=", outage))
	g.Expect(gw.Component).NotTo(BeNil())
	g.Expect(gw.Component.LostService).To(BeTrue(), "the probe inside the gateway namespace must see HAProxy gone")
	for _, pl := range []results.Placement{results.PlacementWorkload, results.PlacementDedicated} {
		a := findApp(t, gw, pl)
		g.Expect(a.LostService).To(BeFalse(), "%s app must keep serving while the management gateway is down: %+v", pl, a)
		g.Expect(a.Requests).To(BeNumerically(">", 50), "%s app must keep sending requests", pl)
	}
	m := findApp(t, gw, results.PlacementManagement)
	g.Expect(m.LostService).To(BeTrue(), "the Management app must lose its service with its gateway")
	g.Expect(m.StillFailing).To(BeFalse(), "the Management app must recover after the restart")
	g.Expect(m.Downtime).To(BeNumerically(">=", outage*9/10), "downtime must cover the outage")
	g.Expect(m.Downtime).To(BeNumerically("<", outage+10*time.Second))
	g.Expect(m.Failed).To(BeNumerically(">", 0))
	g.Expect(m.Failed).To(BeNumerically("<", m.Requests))

	if len(experiments) == 2 {
		cp := doc.BlastRadius[1]
		g.Expect(cp.Stopped).To(Equal("management control plane"))
		g.Expect(cp.Component.LostService).To(BeTrue(), "the apiserver probe must see the control plane gone")
		g.Expect(cp.Component.StillFailing).To(BeFalse(), "the control plane must come back")
		g.Expect(cp.Component.Downtime).To(BeNumerically(">=", outage*9/10))
		// What the apps saw is reported, not asserted: that is the finding.
		for _, a := range cp.Apps {
			t.Logf("control plane down: %s lost service %v, downtime %s, failed %d/%d", a.App, a.LostService, a.Downtime, a.Failed, a.Requests)
			g.Expect(a.Requests).To(BeNumerically(">", 50))
		}
	}

	dir := t.TempDir()
	path, err := WriteBlastRadiusResults(dir, doc)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(path).To(Equal(filepath.Join(dir, "blastradius.json")))
	_, err = report.Generate(dir, "")
	g.Expect(err).NotTo(HaveOccurred())
	md, err := os.ReadFile(filepath.Join(dir, report.FileName))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(md)).To(ContainSubstring("### Stopped: management gateway"))
}
