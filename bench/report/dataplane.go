package report

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/berth-io/berth/bench/results"
)

var scenarioTitle = map[results.Scenario]string{
	results.ScenarioRTT:        "single request",
	results.ScenarioChatty:     "chatty transaction",
	results.ScenarioThroughput: "throughput",
}

// chattyWhat says what one chatty transaction is, per engine.
func chattyWhat(engine string, n int) string {
	switch engine {
	case "Redis":
		return fmt.Sprintf("%d sequential GETs", n)
	case "PostgreSQL":
		return fmt.Sprintf("a %d-statement transaction", n)
	case "RabbitMQ":
		return fmt.Sprintf("%d sequential confirmed publishes", n)
	}
	return fmt.Sprintf("%d round trips", n)
}

func singleWhat(engine string) string {
	switch engine {
	case "Redis":
		return "GET"
	case "PostgreSQL":
		return "SELECT 1"
	case "RabbitMQ":
		return "publish + confirm"
	}
	return "request"
}

func writeDataPlaneRun(md *strings.Builder, outDir, file string, run *results.DataPlaneRun) ([]string, error) {
	p := run.Profile
	fmt.Fprintf(md, "### Link profile %s\n\n", p.Name)
	if p.OneWay > 0 {
		fmt.Fprintf(md, "Inter-cluster link: %s one way ± %s jitter, each direction, emulated by **%s**. ", p.OneWay, p.Jitter, p.Emulation)
	} else {
		md.WriteString("Inter-cluster link: no added latency (plain routing). ")
	}
	s := run.Settings
	fmt.Fprintf(md, "Each measurement: %d warm-up operations, then up to %d operations or %s, whichever ends first; "+
		"%d repeats, interleaved across placements; throughput at %d concurrent connections. Source: `%s`.\n\n",
		s.Warmup, s.MaxOps, s.Duration, s.Repeats, s.Concurrency, file)

	if len(run.Paths) > 0 {
		md.WriteString("| placement | what a request crosses |\n|---|---|\n")
		for _, pl := range results.Placements {
			if path, ok := run.Paths[pl]; ok {
				fmt.Fprintf(md, "| %s | %s |\n", pl, cell(path))
			}
		}
		md.WriteString("\n")
	}

	var measured []*results.EngineResult
	for i := range run.Engines {
		e := &run.Engines[i]
		if e.Skipped != "" {
			fmt.Fprintf(md, "- **%s skipped:** %s\n", e.Engine, cell(e.Skipped))
			continue
		}
		measured = append(measured, e)
	}
	if len(measured) < len(run.Engines) {
		md.WriteString("\n")
	}
	if len(measured) == 0 {
		md.WriteString("No engine was measured at this profile.\n\n")
		return nil, nil
	}

	writeDrivers(md, run, measured)

	var files []string
	for _, e := range measured {
		fmt.Fprintf(md, "#### %s %s (profile %s)\n\n", e.Engine, e.Version, p.Name)
		md.WriteString("| placement | scenario | ops | p50 | p90 | p99 | p99.9 | max | ops/s | p50 vs baseline | noise: CV of p50 / ops/s |\n")
		md.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, sc := range results.Scenarios {
			for _, pl := range results.Placements {
				m := e.Find(pl, sc)
				if m == nil {
					continue
				}
				sm := m.Summary
				name := scenarioTitle[sc]
				if m.Error != "" {
					name += " ⚠"
				}
				fmt.Fprintf(md, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n",
					pl, name, sm.Count, ms(sm.P50US), ms(sm.P90US), ms(sm.P99US), ms(sm.P999US), ms(sm.MaxUS),
					ops(sm.OpsPerSec), times(m.VsBaseline.P50), pct(m.NoiseP50CV), pct(m.NoiseOpsCV))
			}
		}
		md.WriteString("\n")
		for _, m := range e.Measurements {
			if m.Error != "" {
				fmt.Fprintf(md, "- ⚠ %s %s: %s\n", m.Placement, m.Scenario, cell(m.Error))
			}
		}
		name := fmt.Sprintf("dataplane-%s-%s-cdf.svg", slug(p.Name), slug(e.Engine))
		if err := plotCDF(filepath.Join(outDir, name), e, run); err != nil {
			return files, err
		}
		files = append(files, filepath.Join(outDir, name))
		fmt.Fprintf(md, "![%s latency CDF, profile %s](%s)\n\n", e.Engine, p.Name, name)
	}
	return files, nil
}

// writeDrivers puts the decision record's drivers in rows and the
// placements in columns.
func writeDrivers(md *strings.Builder, run *results.DataPlaneRun, engines []*results.EngineResult) {
	md.WriteString("#### Decision drivers\n\n")
	md.WriteString("Each cell: the value, and in brackets the ratio to the baseline (for latency: how many times slower; for throughput: the fraction kept).\n\n")
	md.WriteString("| driver | engine |")
	for _, pl := range results.Placements {
		fmt.Fprintf(md, " %s |", pl)
	}
	md.WriteString("\n|---|---|" + strings.Repeat("---:|", len(results.Placements)) + "\n")

	type driver struct {
		title string
		what  func(e *results.EngineResult) string
		sc    results.Scenario
		value func(m *results.Measurement) string
	}
	drivers := []driver{
		{
			title: "latency: one request, p50 / p99 (ms)",
			what:  func(e *results.EngineResult) string { return singleWhat(e.Engine) },
			sc:    results.ScenarioRTT,
			value: func(m *results.Measurement) string {
				return fmt.Sprintf("%s / %s (%s)", ms(m.Summary.P50US), ms(m.Summary.P99US), times(m.VsBaseline.P50))
			},
		},
		{
			title: "chatty-transaction cost, p50 / p99 (ms)",
			what: func(e *results.EngineResult) string {
				return chattyWhat(e.Engine, run.Settings.ChattyOps[e.Engine])
			},
			sc: results.ScenarioChatty,
			value: func(m *results.Measurement) string {
				return fmt.Sprintf("%s / %s (%s)", ms(m.Summary.P50US), ms(m.Summary.P99US), times(m.VsBaseline.P50))
			},
		},
		{
			title: fmt.Sprintf("throughput at %d connections (ops/s)", run.Settings.Concurrency),
			what:  func(e *results.EngineResult) string { return singleWhat(e.Engine) },
			sc:    results.ScenarioThroughput,
			value: func(m *results.Measurement) string {
				return fmt.Sprintf("%s (%s)", ops(m.Summary.OpsPerSec), times(m.VsBaseline.OpsPerSec))
			},
		},
	}
	for _, d := range drivers {
		for _, e := range engines {
			fmt.Fprintf(md, "| %s | %s: %s |", d.title, e.Engine, d.what(e))
			for _, pl := range results.Placements {
				m := e.Find(pl, d.sc)
				if m == nil || m.Summary.Count == 0 {
					md.WriteString(" – |")
					continue
				}
				fmt.Fprintf(md, " %s |", d.value(m))
			}
			md.WriteString("\n")
		}
	}
	md.WriteString("\n")
}
