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
	"github.com/berth-io/berth/bench/netlab"
	"github.com/berth-io/berth/bench/results"
	"github.com/berth-io/berth/hack/clustertools"
)

// Blast-radius experiments accepted by BlastRadiusOptions.Experiments.
const (
	// ExperimentGateway SIGKILLs the management gateway's HAProxy and
	// restarts it after the outage.
	ExperimentGateway = "gateway"
	// ExperimentControlPlane SIGKILLs the management cluster's
	// kube-apiserver and etcd and restarts them after the outage.
	ExperimentControlPlane = "controlplane"
)

// ExperimentOrder is the default experiment list, in run order.
var ExperimentOrder = []string{ExperimentGateway, ExperimentControlPlane}

// BlastRadiusOptions configure a blast-radius run.
type BlastRadiusOptions struct {
	// Engines whose servers the apps use: redis, postgres, rabbitmq
	// (default: redis).
	Engines []string
	// Experiments to run (default: ExperimentOrder).
	Experiments []string
	// Outage is how long the component stays stopped (default 3s).
	Outage time.Duration
	// Interval between an app's requests (default 5ms).
	Interval time.Duration
	// RequestTimeout bounds each request and reconnect (default 200ms).
	RequestTimeout time.Duration
	// RecoveryTimeout bounds the wait for every app to be healthy again
	// after the restart, and each start of the control plane (default 90s).
	RecoveryTimeout time.Duration
	// Progress receives progress lines; nil is silent.
	Progress io.Writer
	// WorkDir is where the lab's temporary directory goes (default: the
	// system temporary directory).
	WorkDir string
}

// Defaults and bounds for BlastRadiusOptions.
const (
	DefaultOutage          = 3 * time.Second
	MinOutage              = 100 * time.Millisecond
	MaxOutage              = 10 * time.Minute
	DefaultInterval        = 5 * time.Millisecond
	DefaultRequestTimeout  = 200 * time.Millisecond
	DefaultRecoveryTimeout = 90 * time.Second
)

// healthyFor is how long an app must have succeeded without a failure to
// count as healthy, before the stop and after the restart.
const healthyFor = 250 * time.Millisecond

func (o *BlastRadiusOptions) defaults() error {
	if len(o.Engines) == 0 {
		o.Engines = []string{EngineRedis}
	}
	if len(o.Experiments) == 0 {
		o.Experiments = ExperimentOrder
	}
	if o.Outage == 0 {
		o.Outage = DefaultOutage
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.RecoveryTimeout == 0 {
		o.RecoveryTimeout = DefaultRecoveryTimeout
	}
	switch {
	case o.Outage < MinOutage || o.Outage > MaxOutage:
		return bench.Errorf("outage", "%s is outside %s..%s", o.Outage, MinOutage, MaxOutage)
	case o.Interval < time.Millisecond || o.Interval > time.Second:
		return bench.Errorf("interval", "%s is outside 1ms..1s", o.Interval)
	case o.RequestTimeout < 10*time.Millisecond || o.RequestTimeout > 30*time.Second:
		return bench.Errorf("request-timeout", "%s is outside 10ms..30s", o.RequestTimeout)
	case o.RecoveryTimeout < 10*time.Second || o.RecoveryTimeout > 30*time.Minute:
		return bench.Errorf("recovery-timeout", "%s is outside 10s..30m", o.RecoveryTimeout)
	}
	return nil
}

// lookupExperiments validates names and returns them in run order.
func lookupExperiments(names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != ExperimentGateway && n != ExperimentControlPlane {
			return nil, bench.Errorf("experiments", "unknown experiment %q (known: %s)", n, strings.Join(ExperimentOrder, ", "))
		}
		want[n] = true
	}
	var out []string
	for _, n := range ExperimentOrder {
		if want[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, bench.Errorf("experiments", "at least one experiment is needed")
	}
	return out, nil
}

// appPlacements are the placements an app can be given; Baseline is a
// yardstick of the data path, not a placement.
var appPlacements = []results.Placement{results.PlacementWorkload, results.PlacementManagement, results.PlacementDedicated}

// RunBlastRadius builds the topology, starts the engines' servers (and,
// for ExperimentControlPlane, the management cluster's etcd and
// kube-apiserver), and runs each experiment: apps at every placement send
// requests while one management component is stopped and restarted. It
// tears everything down when it returns, also when ctx is cancelled.
func RunBlastRadius(ctx context.Context, opts BlastRadiusOptions) (doc *results.Document, reterr error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	engines, err := lookupEngines(opts.Engines)
	if err != nil {
		return nil, err
	}
	experiments, err := lookupExperiments(opts.Experiments)
	if err != nil {
		return nil, err
	}
	for _, e := range engines {
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	var bins clustertools.Binaries
	for _, x := range experiments {
		if x == ExperimentControlPlane {
			if bins, err = clustertools.Locate(); err != nil {
				return nil, fmt.Errorf("experiment %s needs kube-apiserver and etcd (or leave it out with --experiments %s): %w", x, ExperimentGateway, err)
			}
		}
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
	prog := newProgress(opts.Progress, 0)
	prog.note("blastradius: building the topology (namespaces %s%s-*)", netlab.Prefix, lab.ID)
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
	for _, e := range engines {
		prog.note("blastradius: starting %s", e.Name())
		if err := startEngine(ctx, lab, topo, e); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if v := serverVersion(ctx, topo, e); v != "" {
			doc.Versions[e.Name()+" server"] = v
		}
	}

	run := &outageRun{opts: opts, topo: topo, engines: engines, prog: prog}
	for _, x := range experiments {
		var o results.Outage
		switch x {
		case ExperimentGateway:
			o, err = run.gateway(ctx, lab)
		case ExperimentControlPlane:
			doc.Versions["kube-apiserver"] = clustertools.Versions().Kube
			doc.Versions["etcd"] = clustertools.Versions().Etcd
			o, err = run.controlPlane(ctx, lab, bins)
		}
		if err != nil {
			return nil, fmt.Errorf("experiment %s: %w", x, err)
		}
		doc.BlastRadius = append(doc.BlastRadius, o)
	}
	doc.Finished = time.Now().UTC()
	return doc, nil
}

// serverVersion asks the co-located server for its version.
func serverVersion(ctx context.Context, topo *Topology, e engine) string {
	dial, addr, err := topo.Endpoint(results.PlacementWorkload, e.Port())
	if err != nil {
		return ""
	}
	c, err := e.Connect(ctx, dial, addr)
	if err != nil {
		return ""
	}
	defer c.Close()
	v, _ := c.Version(ctx)
	return v
}

// outageRun holds what every experiment of a run shares.
type outageRun struct {
	opts    BlastRadiusOptions
	topo    *Topology
	engines []engine
	prog    *progress
}

// component is what an experiment stops.
type component struct {
	// stopped and method fill results.Outage.
	stopped, method string
	// probeName labels the component's own probe; probe is that probe.
	probeName, probeEngine string
	probe                  target
	// stop takes the component down; restart brings it back and returns
	// once it has started (not necessarily serving).
	stop    func() error
	restart func(ctx context.Context) error
}

// gateway stops the management gateway's HAProxy.
func (r *outageRun) gateway(ctx context.Context, lab *netlab.Lab) (results.Outage, error) {
	mgmt := r.topo.remote(results.PlacementManagement)
	e := r.engines[0]
	restarts := 0
	return r.outage(ctx, component{
		stopped:     "management gateway",
		method:      "SIGKILL of the gateway's HAProxy; restarted with the same configuration after the outage",
		probeName:   "probe inside " + mgmt.plan.role + "-gw",
		probeEngine: e.Name(),
		probe:       &engineTarget{engine: e, dial: mgmt.gateway.DialContext, addr: fmt.Sprintf("%s:%d", mgmt.plan.p2pGW, e.Port())},
		stop:        mgmt.haproxy.Kill,
		restart: func(ctx context.Context) error {
			restarts++
			p, err := startHAProxy(ctx, lab, mgmt, r.topo.ports, fmt.Sprintf("haproxy-%s-%d", mgmt.plan.role, restarts+1))
			if err != nil {
				return fmt.Errorf("restarting the gateway: %w", err)
			}
			mgmt.haproxy = p
			return nil
		},
	})
}

// controlPlane starts the management cluster's etcd and kube-apiserver,
// then stops both.
func (r *outageRun) controlPlane(ctx context.Context, lab *netlab.Lab, bins clustertools.Binaries) (results.Outage, error) {
	cp, err := newKubeControlPlane(ctx, lab, r.topo, bins, r.opts.RecoveryTimeout)
	if err != nil {
		return results.Outage{}, err
	}
	r.prog.note("blastradius: starting the management control plane (etcd, kube-apiserver at %s)", cp.URL())
	start := time.Now()
	if err := cp.Start(ctx); err != nil {
		return results.Outage{}, fmt.Errorf("starting the management control plane: %w", err)
	}
	r.prog.note("blastradius: management control plane ready after %s", time.Since(start).Round(time.Millisecond))
	return r.outage(ctx, component{
		stopped:     "management control plane",
		method:      "SIGKILL of kube-apiserver and etcd; etcd, then kube-apiserver restarted on the same data after the outage",
		probeName:   "GET /readyz inside mgmt-cp",
		probeEngine: "kube-apiserver",
		probe:       cp.Probe(),
		stop:        cp.Kill,
		restart:     cp.Start,
	})
}

// outage runs one experiment: it starts an app per engine and placement in
// wl-app, plus a probe of the component; waits until all are healthy;
// stops the component for the outage; restarts it; and waits until all
// are healthy again (bounded by RecoveryTimeout).
func (r *outageRun) outage(ctx context.Context, comp component) (results.Outage, error) {
	o := results.Outage{Stopped: comp.stopped, Method: comp.method, Interval: r.opts.Interval, RequestTimeout: r.opts.RequestTimeout}
	type app struct {
		impact results.AppImpact // identity
		p      *prober
	}
	var apps []app
	for _, e := range r.engines {
		for _, pl := range appPlacements {
			dial, addr, err := r.topo.Endpoint(pl, e.Port())
			if err != nil {
				return o, err
			}
			apps = append(apps, app{
				impact: results.AppImpact{App: strings.ToLower(e.Name() + "-" + string(pl)), Engine: e.Name(), Placement: pl},
				p:      &prober{target: &engineTarget{engine: e, dial: dial, addr: addr}, interval: r.opts.Interval, timeout: r.opts.RequestTimeout},
			})
		}
	}
	probeInterval := max(r.opts.Interval, 20*time.Millisecond)
	self := app{
		impact: results.AppImpact{App: comp.probeName, Engine: comp.probeEngine, Placement: results.PlacementManagement},
		p:      &prober{target: comp.probe, interval: probeInterval, timeout: max(r.opts.RequestTimeout, time.Second)},
	}
	all := append(append([]app(nil), apps...), self)

	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, a := range all {
		wg.Go(func() { a.p.run(pctx) })
	}
	stopProbes := func() {
		cancel()
		wg.Wait()
		for _, a := range all {
			a.p.target.Reset()
		}
	}
	defer stopProbes()

	// waitHealthy waits until every prober has succeeded for healthyFor
	// after since, and returns the ones that have not by the deadline.
	waitHealthy := func(since time.Time, timeout time.Duration) ([]app, error) {
		deadline := time.Now().Add(timeout)
		for {
			var sick []app
			var errs []error
			for _, a := range all {
				n := max(3, int(healthyFor/a.p.interval))
				if ok, err := a.p.healthySince(since, n); !ok {
					sick = append(sick, a)
					if err == nil {
						err = errors.New("not enough answers yet")
					}
					errs = append(errs, fmt.Errorf("%s: %w", a.impact.App, err))
				}
			}
			if len(sick) == 0 || time.Now().After(deadline) {
				return sick, errors.Join(errs...)
			}
			select {
			case <-ctx.Done():
				return sick, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	r.prog.note("blastradius: %s: %d apps and a probe of the component running", comp.stopped, len(apps))
	if sick, err := waitHealthy(time.Now(), 30*time.Second); len(sick) > 0 {
		return o, fmt.Errorf("not healthy before the outage: %w", err)
	}
	stop := time.Now()
	if err := comp.stop(); err != nil {
		return o, fmt.Errorf("stopping the %s: %w", comp.stopped, err)
	}
	r.prog.note("blastradius: %s stopped for %s", comp.stopped, r.opts.Outage)
	select {
	case <-ctx.Done():
		return o, ctx.Err()
	case <-time.After(time.Until(stop.Add(r.opts.Outage))):
	}
	restart := time.Now()
	o.Outage = restart.Sub(stop)
	if err := comp.restart(ctx); err != nil {
		return o, err
	}
	r.prog.note("blastradius: %s restarted after %s", comp.stopped, time.Since(restart).Round(time.Millisecond))
	sick, err := waitHealthy(restart, r.opts.RecoveryTimeout)
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	if len(sick) > 0 {
		r.prog.note("blastradius: gave up waiting after %s: %v", r.opts.RecoveryTimeout, err)
	}
	end := time.Now()
	cancel()
	wg.Wait()

	fill := func(a app) results.AppImpact {
		im := impact(a.p.snapshot(), stop, restart, end)
		im.App, im.Engine, im.Placement = a.impact.App, a.impact.Engine, a.impact.Placement
		return im
	}
	for _, a := range apps {
		im := fill(a)
		o.Apps = append(o.Apps, im)
		r.prog.note("blastradius: %s: %-21s lost service %-5v downtime %-8s failed %d/%d (first failure +%s, recovered %s after the restart)",
			comp.stopped, im.App, im.LostService, im.Downtime.Round(time.Millisecond), im.Failed, im.Requests,
			im.FirstFailure.Round(time.Millisecond), im.Recovery.Round(time.Millisecond))
	}
	c := fill(self)
	o.Component = &c
	r.prog.note("blastradius: %s: its own probe failed for %s (first failure +%s, recovered %s after the restart)", comp.stopped,
		c.Downtime.Round(time.Millisecond), c.FirstFailure.Round(time.Millisecond), c.Recovery.Round(time.Millisecond))
	return o, nil
}

// remote returns the remote cluster of placement p, or nil.
func (t *Topology) remote(p results.Placement) *remote {
	for _, r := range t.remotes {
		if r.plan.placement == p {
			return r
		}
	}
	return nil
}

// WriteBlastRadiusResults stores doc as <dir>/blastradius.json, creating dir.
func WriteBlastRadiusResults(dir string, doc *results.Document) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, "blastradius.json")
	return path, results.Write(path, doc)
}
