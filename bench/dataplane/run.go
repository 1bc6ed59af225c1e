package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-io/berth/bench"
	"github.com/berth-io/berth/bench/linkemu"
	"github.com/berth-io/berth/bench/netlab"
	"github.com/berth-io/berth/bench/results"
)

// Options configure a data-path run.
type Options struct {
	// Profiles are the link profiles to measure, e.g. "0" and "0.5ms".
	Profiles []string
	// Engines to measure: redis, postgres, rabbitmq (default: all).
	Engines []string
	// Duration bounds each measurement (default 2s).
	Duration time.Duration
	// MaxOps bounds each measurement (default 100000).
	MaxOps int
	// Warmup operations before each measurement (default 100).
	Warmup int
	// Repeats of each measurement (default 3, at least 2 for a noise figure).
	Repeats int
	// Concurrency of the throughput scenario (default 8).
	Concurrency int
	// Required makes a missing or failing engine an error instead of a
	// skipped engine (CI uses it so a broken install cannot pass quietly).
	Required bool
	// Progress receives a progress bar or progress lines; nil is silent.
	Progress io.Writer
	// WorkDir is where the lab's temporary directory goes (default: the
	// system temporary directory).
	WorkDir string
}

// Defaults for Options.
const (
	DefaultDuration    = 2 * time.Second
	DefaultMaxOps      = 100000
	DefaultWarmup      = 100
	DefaultRepeats     = 3
	DefaultConcurrency = 8
)

func (o *Options) defaults() error {
	if len(o.Profiles) == 0 {
		o.Profiles = []string{"0"}
	}
	if len(o.Engines) == 0 {
		o.Engines = EngineOrder
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.MaxOps == 0 {
		o.MaxOps = DefaultMaxOps
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.Repeats == 0 {
		o.Repeats = DefaultRepeats
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.Duration < 10*time.Millisecond || o.Duration > 10*time.Minute:
		return bench.Errorf("duration", "%s is outside 10ms..10m", o.Duration)
	case o.MaxOps < 1:
		return bench.Errorf("ops", "must be at least 1, got %d", o.MaxOps)
	case o.Warmup < 0:
		return bench.Errorf("warmup", "must not be negative, got %d", o.Warmup)
	case o.Repeats < 1 || o.Repeats > 100:
		return bench.Errorf("repeats", "must be 1..100, got %d", o.Repeats)
	case o.Concurrency < 1 || o.Concurrency > 256:
		return bench.Errorf("concurrency", "must be 1..256, got %d", o.Concurrency)
	}
	return nil
}

// Run builds the topology, starts the servers, measures every engine at
// every placement and profile, and tears everything down again (also when
// ctx is cancelled). It returns the results document; engines that could
// not run are in it as skipped, with the reason.
func Run(ctx context.Context, opts Options) (doc *results.Document, reterr error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	profiles := make([]linkemu.Profile, 0, len(opts.Profiles))
	for _, s := range opts.Profiles {
		p, err := linkemu.ParseProfile(s)
		if err != nil {
			return nil, &bench.FieldError{Field: "profile", Err: err}
		}
		profiles = append(profiles, p)
	}
	engines, err := lookupEngines(opts.Engines)
	if err != nil {
		return nil, err
	}

	doc = &results.Document{Schema: results.Schema, Started: time.Now().UTC(), Machine: results.DescribeMachine(), Versions: clientVersions()}
	lab, err := netlab.New(ctx, opts.WorkDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := lab.Close(); err != nil {
			reterr = errors.Join(reterr, fmt.Errorf("cleaning up the lab: %w", err))
		}
		if reterr != nil && ctx.Err() != nil {
			reterr = fmt.Errorf("interrupted, namespaces and servers removed: %w", ctx.Err())
		}
	}()

	perEngine := len(results.Placements) * len(results.Scenarios) * opts.Repeats
	prog := newProgress(opts.Progress, perEngine*len(engines)*len(profiles))
	prog.note("bench: building the topology (namespaces %s%s-*)", netlab.Prefix, lab.ID)
	ports := make([]int, 0, len(engines))
	for _, e := range engines {
		ports = append(ports, e.Port())
	}
	topo, err := buildTopology(ctx, lab, ports)
	if err != nil {
		return nil, fmt.Errorf("building the topology: %w", err)
	}
	defer topo.Close()
	doc.Versions["haproxy"] = commandVersion(ctx, "haproxy", "-v")

	// Start every engine's three servers, engines one after another,
	// instances of one engine in parallel.
	started := map[string]string{} // engine -> skip reason ("" = running)
	for _, e := range engines {
		prog.note("bench: starting %s", e.Name())
		if err := startEngine(ctx, lab, topo, e); err != nil {
			if opts.Required || ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", e.Name(), err)
			}
			started[e.Name()] = err.Error()
			prog.note("bench: skipping %s: %v", e.Name(), err)
			prog.skip(perEngine * len(profiles))
			continue
		}
		started[e.Name()] = ""
	}

	for _, p := range profiles {
		if err := topo.SetProfile(ctx, p); err != nil {
			return nil, fmt.Errorf("setting link profile %s: %w", p.Name, err)
		}
		run := results.DataPlaneRun{
			Profile: results.LinkProfile{Name: p.Name, OneWay: p.OneWay, Jitter: p.Jitter, Emulation: topo.Emulation()},
			Settings: results.DataPlaneSettings{Warmup: opts.Warmup, MaxOps: opts.MaxOps, Duration: opts.Duration,
				Repeats: opts.Repeats, Concurrency: opts.Concurrency, ChattyOps: map[string]int{}},
			Paths: topo.Paths(),
		}
		prog.note("bench: link profile %s (%s)", p.Name, topo.Emulation())
		for _, e := range engines {
			run.Settings.ChattyOps[e.Name()] = e.ChattyOps()
			if reason := started[e.Name()]; reason != "" {
				run.Engines = append(run.Engines, results.EngineResult{Engine: e.Name(), Skipped: reason})
				continue
			}
			er, err := measureEngine(ctx, topo, e, opts, p, prog)
			if err != nil {
				if opts.Required || ctx.Err() != nil {
					return nil, fmt.Errorf("%s at profile %s: %w", e.Name(), p.Name, err)
				}
				er.Skipped = err.Error()
				prog.note("bench: %s at profile %s failed: %v", e.Name(), p.Name, err)
			}
			run.Engines = append(run.Engines, er)
		}
		doc.DataPlane = append(doc.DataPlane, run)
	}
	doc.Finished = time.Now().UTC()
	return doc, nil
}

// startEngine starts the engine's server in the workload, management and
// services namespaces.
func startEngine(ctx context.Context, lab *netlab.Lab, topo *Topology, e engine) error {
	if err := e.Check(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for placement, ns := range topo.ServiceNamespaces() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Start(ctx, lab, ns, strings.ToLower(string(placement))); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s server: %w", placement, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// measureEngine connects clients at every placement and runs every scenario,
// interleaving placements within each repeat so slow drifts of the machine
// hit all placements alike.
func measureEngine(ctx context.Context, topo *Topology, e engine, opts Options, p linkemu.Profile, prog *progress) (results.EngineResult, error) {
	er := results.EngineResult{Engine: e.Name()}
	conns := map[results.Placement][]client{}
	defer func() {
		for _, cs := range conns {
			for _, c := range cs {
				_ = c.Close()
			}
		}
	}()
	for _, pl := range results.Placements {
		dial, addr, err := topo.Endpoint(pl, e.Port())
		if err != nil {
			return er, err
		}
		for range opts.Concurrency {
			c, err := e.Connect(ctx, dial, addr)
			if err != nil {
				return er, fmt.Errorf("connecting at placement %s: %w", pl, err)
			}
			conns[pl] = append(conns[pl], c)
		}
	}
	if v, err := conns[results.PlacementBaseline][0].Version(ctx); err == nil {
		er.Version = v
	}

	acc := map[results.Placement]map[results.Scenario]*accumulator{}
	for _, pl := range results.Placements {
		acc[pl] = map[results.Scenario]*accumulator{}
		for _, s := range results.Scenarios {
			acc[pl][s] = &accumulator{}
		}
	}
	w := window{warmup: opts.Warmup, maxOps: opts.MaxOps, duration: opts.Duration}
	for r := range opts.Repeats {
		for _, s := range results.Scenarios {
			op, n := scenarioOp(s, opts.Concurrency)
			for _, pl := range results.Placements {
				if err := ctx.Err(); err != nil {
					return er, err
				}
				smp := measure(ctx, conns[pl][:n], op, w)
				acc[pl][s].add(smp)
				prog.step(fmt.Sprintf("%s %s %s %s r%d/%d p50 %s", p.Name, e.Name(), pl, s, r+1, opts.Repeats,
					time.Duration(smp.hist.ValueAtQuantile(50))*time.Microsecond))
			}
		}
	}
	for _, pl := range results.Placements {
		for _, s := range results.Scenarios {
			m, err := acc[pl][s].measurement(pl, s)
			if err != nil {
				return er, fmt.Errorf("%s %s: %w", pl, s, err)
			}
			er.Measurements = append(er.Measurements, m)
		}
	}
	er.ComputeRatios()
	return er, nil
}

// WriteResults stores doc as <dir>/dataplane.json, creating dir.
func WriteResults(dir string, doc *results.Document) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, "dataplane.json")
	return path, results.Write(path, doc)
}
