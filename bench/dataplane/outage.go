package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/berth-io/berth/bench/results"
)

// target is what a prober sends requests to.
type target interface {
	// Request is one request, connecting first when there is no connection.
	Request(ctx context.Context) error
	// Abort unblocks a request in flight; it is called from another
	// goroutine when the request timeout passes.
	Abort()
	// Reset drops the connection after a failed request, so the next
	// request reconnects.
	Reset()
}

// outcome is the result of one request, stamped when it ended.
type outcome struct {
	at  time.Time
	err error
}

// prober sends a request to its target every interval, one at a time, and
// records every outcome.
type prober struct {
	target   target
	interval time.Duration
	timeout  time.Duration

	mu      sync.Mutex
	samples []outcome
}

// run probes until ctx ends. A request cut short by ctx is not recorded.
func (p *prober) run(ctx context.Context) {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		err := p.once(ctx)
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		p.samples = append(p.samples, outcome{at: time.Now(), err: err})
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// once is one request bounded by the timeout; it resets the target after a
// failure.
func (p *prober) once(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	timer := time.AfterFunc(p.timeout, p.target.Abort)
	err := p.target.Request(rctx)
	if !timer.Stop() {
		// The request outlived its timeout, whatever it returned.
		err = fmt.Errorf("no answer within %s: %w", p.timeout, errors.Join(err, context.DeadlineExceeded))
	}
	if err != nil {
		p.target.Reset()
	}
	return err
}

// healthySince reports whether the last n requests succeeded and all ended
// after since; otherwise it also returns the latest error, if any.
func (p *prober) healthySince(since time.Time, n int) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := 0
	for i := len(p.samples) - 1; i >= 0 && ok < n; i-- {
		s := p.samples[i]
		if s.err != nil {
			return false, s.err
		}
		if !s.at.After(since) {
			break
		}
		ok++
	}
	return ok >= n, nil
}

// snapshot copies the samples.
func (p *prober) snapshot() []outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]outcome(nil), p.samples...)
}

// impact summarises samples for the outage from stop to end, with the
// stopped component restarted at restart. The identity fields of the
// result are left to the caller.
func impact(samples []outcome, stop, restart, end time.Time) results.AppImpact {
	var out results.AppImpact
	var firstFail, lastFail, recovered time.Time
	for _, s := range samples {
		if s.at.Before(stop) || s.at.After(end) {
			continue
		}
		out.Requests++
		if s.err == nil {
			if !lastFail.IsZero() && recovered.IsZero() {
				recovered = s.at
			}
			continue
		}
		out.Failed++
		if firstFail.IsZero() {
			firstFail = s.at
			out.Error = s.err.Error()
		}
		lastFail = s.at
		recovered = time.Time{}
	}
	if out.Failed == 0 {
		return out
	}
	out.LostService = true
	out.FirstFailure = firstFail.Sub(stop)
	if recovered.IsZero() {
		out.StillFailing = true
		out.Downtime = end.Sub(firstFail)
		return out
	}
	out.Downtime = recovered.Sub(firstFail)
	out.Recovery = recovered.Sub(restart)
	return out
}

// engineTarget is an app: one connection of an engine's real client,
// opened through dial and reopened after every failure.
type engineTarget struct {
	engine engine
	dial   DialFunc
	addr   string
	c      client

	mu    sync.Mutex
	conns []net.Conn // sockets the client opened, for Abort
}

var _ target = &engineTarget{}

// trackedDial dials and remembers the socket, so Abort can close it under
// the client library.
func (t *engineTarget) trackedDial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.conns = append(t.conns, c)
	t.mu.Unlock()
	return c, nil
}

func (t *engineTarget) Request(ctx context.Context) error {
	if t.c == nil {
		c, err := t.engine.Connect(ctx, t.trackedDial, t.addr)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		t.c = c
	}
	return t.c.Single(ctx)
}

// Abort closes the sockets; a blocked read or write in the client returns.
func (t *engineTarget) Abort() {
	t.mu.Lock()
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Reset closes the sockets first, so closing the client cannot block on a
// dead peer.
func (t *engineTarget) Reset() {
	t.Abort()
	if t.c != nil {
		_ = t.c.Close()
		t.c = nil
	}
}
