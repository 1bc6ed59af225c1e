package controlplane

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/berth-io/berth/bench"
	"github.com/berth-io/berth/bench/results"
	"github.com/berth-io/berth/spoke/lease"
)

// DefaultMembers are the fleet sizes Run measures by default.
var DefaultMembers = []int{10, 100, 1000}

const (
	// DefaultServices is how many ManagedServices each size creates.
	DefaultServices = 100
	// DefaultTimeout bounds each size.
	DefaultTimeout = 20 * time.Minute
)

// Options configure Run.
type Options struct {
	// Members are the fleet sizes, each measured on a fresh apiserver.
	Members []int
	// Services is how many ManagedServices are created at each size.
	Services int
	// HubBinary is the berth-hub executable.
	HubBinary string
	// WorkDir receives the hub's logs and kubeconfigs; empty uses a
	// temporary directory that is removed afterwards.
	WorkDir string
	// Timeout bounds each size.
	Timeout time.Duration
	// HubKubeAPIQPS is berth-hub's --kube-api-qps; zero keeps its default.
	HubKubeAPIQPS float32
	// LeaseDuration is the simulated spokes' leaseDurationSeconds; zero
	// uses berth-spoke's default.
	LeaseDuration time.Duration
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

func (o *Options) defaults() error {
	if len(o.Members) == 0 {
		o.Members = DefaultMembers
	}
	for _, n := range o.Members {
		if n < 3 {
			return bench.Errorf("members", "each fleet size must be at least 3 (a Management, a Services and a Workload member), got %d", n)
		}
	}
	if o.Services == 0 {
		o.Services = DefaultServices
	}
	if o.Services < 0 {
		return bench.Errorf("services", "must not be negative, got %d", o.Services)
	}
	if o.HubBinary == "" {
		return bench.Errorf("hub-binary", "the berth-hub executable is required")
	}
	if _, err := os.Stat(o.HubBinary); err != nil {
		return &bench.FieldError{Field: "hub-binary", Err: err}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Timeout < 0 {
		return bench.Errorf("timeout", "must not be negative, got %s", o.Timeout)
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = lease.DefaultDuration
	}
	if o.LeaseDuration < time.Second {
		return bench.Errorf("lease-duration", "must be at least 1s, got %s", o.LeaseDuration)
	}
	if o.HubKubeAPIQPS < 0 {
		return bench.Errorf("hub-kube-api-qps", "must not be negative, got %g", o.HubKubeAPIQPS)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// Run measures every fleet size in turn and returns the results. A size
// that fails ends the run with its error; the sizes measured before it are
// in the document.
func Run(ctx context.Context, opts Options) (*results.Document, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "berth-bench-controlplane-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		opts.WorkDir = dir
	} else if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return nil, &bench.FieldError{Field: "work-dir", Err: err}
	}
	doc := &results.Document{
		Schema:       results.Schema,
		Started:      time.Now().UTC(),
		Machine:      results.DescribeMachine(),
		Versions:     results.ModuleVersions(),
		ControlPlane: &results.ControlPlane{},
	}
	sizes := slices.Clone(opts.Members)
	slices.Sort(sizes)
	for _, n := range sizes {
		r, err := runSize(ctx, n, opts)
		if err != nil {
			doc.Finished = time.Now().UTC()
			return doc, fmt.Errorf("%d members: %w", n, err)
		}
		cp := doc.ControlPlane
		cp.Registration = append(cp.Registration, results.MemberSeries{Members: n, Latency: r.registration})
		cp.Propagated = append(cp.Propagated, results.MemberSeries{Members: n, Latency: r.propagated})
		cp.Propagation = append(cp.Propagation, results.MemberSeries{Members: n, Latency: r.ready})
		cp.HubMemory = append(cp.HubMemory, r.hub)
	}
	doc.Finished = time.Now().UTC()
	return doc, nil
}

// WriteResults writes doc to dir/controlplane.json.
func WriteResults(dir string, doc *results.Document) (string, error) {
	path := filepath.Join(dir, "controlplane.json")
	return path, results.Write(path, doc)
}
