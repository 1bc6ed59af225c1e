package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/berth-io/berth/bench/results"
)

// window bounds one measurement.
type window struct {
	warmup   int
	maxOps   int
	duration time.Duration
}

// sample is the outcome of one measurement.
type sample struct {
	hist     *hdrhistogram.Histogram
	elapsed  time.Duration
	errors   int64
	firstErr error
}

// measure runs op on every client concurrently: first w.warmup operations
// spread over the clients (not recorded), then until w.maxOps operations
// in total or w.duration, whichever comes first. Each operation's latency
// goes into an HDR histogram in microseconds.
func measure(ctx context.Context, clients []client, op func(client, context.Context) error, w window) sample {
	n := len(clients)
	// Warm-up: every client, in parallel, so connections and server caches are hot.
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range max(1, w.warmup/n) {
				if ctx.Err() != nil {
					return
				}
				_ = op(c, ctx)
			}
		}()
	}
	wg.Wait()

	var (
		issued   atomic.Int64
		errCount atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	hists := make([]*hdrhistogram.Histogram, n)
	mctx, cancel := context.WithTimeout(ctx, w.duration)
	defer cancel()
	// A request in flight when the window closes may finish, but none may
	// hang the run: operations get a hard bound.
	opCtx, opCancel := context.WithTimeout(ctx, w.duration+30*time.Second)
	defer opCancel()
	start := time.Now()
	for i, c := range clients {
		hists[i] = results.NewHistogram()
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hists[i]
			for mctx.Err() == nil && issued.Add(1) <= int64(w.maxOps) {
				t0 := time.Now()
				err := op(c, opCtx)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errCount.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				_ = h.RecordValue(max(1, d.Microseconds()))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	merged := results.NewHistogram()
	for _, h := range hists {
		merged.Merge(h)
	}
	return sample{hist: merged, elapsed: elapsed, errors: errCount.Load(), firstErr: firstErr}
}

// scenarioOp returns the operation a scenario performs, and how many
// clients it uses.
func scenarioOp(s results.Scenario, concurrency int) (func(client, context.Context) error, int) {
	switch s {
	case results.ScenarioChatty:
		return client.Chatty, 1
	case results.ScenarioThroughput:
		return client.Single, concurrency
	default:
		return client.Single, 1
	}
}

// accumulator collects the repeats of one placement × scenario.
type accumulator struct {
	merged  *hdrhistogram.Histogram
	repeats []results.Summary
	elapsed time.Duration
	errors  int64
	errMsg  string
}

func (a *accumulator) add(s sample) {
	if a.merged == nil {
		a.merged = results.NewHistogram()
	}
	a.merged.Merge(s.hist)
	a.elapsed += s.elapsed
	a.errors += s.errors
	a.repeats = append(a.repeats, results.Summarize(s.hist, s.elapsed, s.errors))
	if s.firstErr != nil && a.errMsg == "" {
		a.errMsg = fmt.Sprintf("%d failed operations, first: %v", s.errors, s.firstErr)
	}
	if s.hist.TotalCount() == 0 && s.firstErr == nil && a.errMsg == "" {
		a.errMsg = "no operation completed"
	}
}

func (a *accumulator) measurement(p results.Placement, s results.Scenario) (results.Measurement, error) {
	m := results.Measurement{Placement: p, Scenario: s, Repeats: a.repeats, Error: a.errMsg}
	if a.merged == nil {
		return m, errors.New("nothing measured")
	}
	m.Summary = results.Summarize(a.merged, a.elapsed, a.errors)
	p50s := make([]float64, 0, len(a.repeats))
	ops := make([]float64, 0, len(a.repeats))
	for _, r := range a.repeats {
		p50s = append(p50s, r.P50US)
		ops = append(ops, r.OpsPerSec)
	}
	m.NoiseP50CV = results.CV(p50s)
	m.NoiseOpsCV = results.CV(ops)
	h, err := results.EncodeHistogram(a.merged)
	if err != nil {
		return m, err
	}
	m.Histogram = h
	return m, nil
}
