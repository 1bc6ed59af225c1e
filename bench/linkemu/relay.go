package linkemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Profile is a link's one-way delay and jitter.
type Profile struct {
	// Name is how the profile is written on the command line, e.g. "0.5ms".
	Name string `json:"name"`
	// OneWay is the added one-way latency.
	OneWay time.Duration `json:"oneWay"`
	// Jitter is the spread around OneWay: each chunk gets OneWay plus a
	// uniform value in [-Jitter, +Jitter].
	Jitter time.Duration `json:"jitter"`
}

// ParseProfile reads "0" (no added latency) or a Go duration such as
// "0.5ms". Jitter defaults to a tenth of the delay.
func ParseProfile(s string) (Profile, error) {
	if s == "0" || s == "" {
		return Profile{Name: "0"}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Profile{}, fmt.Errorf("profile %q: want 0 or a one-way latency such as 0.5ms: %w", s, err)
	}
	if d < 0 || d > 10*time.Second {
		return Profile{}, fmt.Errorf("profile %q: one-way latency must be between 0 and 10s", s)
	}
	return Profile{Name: s, OneWay: d, Jitter: d / 10}, nil
}

// Delayed reports whether the profile adds latency.
func (p Profile) Delayed() bool { return p.OneWay > 0 }

// Relay accepts TCP connections and relays each one to a target, delaying
// every chunk in both directions by the profile.
type Relay struct {
	ln      net.Listener
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	target  string
	profile Profile

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

// NewRelay serves ln, dialing target with dial for every accepted
// connection. dial is where the far end is reached from (a namespace's
// DialContext). Close stops it.
func NewRelay(ln net.Listener, dial func(ctx context.Context, network, addr string) (net.Conn, error), target string, p Profile) *Relay {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{ln: ln, dial: dial, target: target, profile: p, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	return r
}

// Addr is the address the relay listens on.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

func (r *Relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.handle(c)
		}()
	}
}

func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) handle(client net.Conn) {
	if !r.track(client) {
		_ = client.Close()
		return
	}
	server, err := r.dial(r.ctx, "tcp", r.target)
	if err != nil {
		_ = client.Close()
		return
	}
	if !r.track(server) {
		_ = client.Close()
		_ = server.Close()
		return
	}
	for _, c := range []net.Conn{client, server} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.pipe(server, client) }()
	go func() { defer wg.Done(); r.pipe(client, server) }()
	wg.Wait()
	r.mu.Lock()
	delete(r.conns, client)
	delete(r.conns, server)
	r.mu.Unlock()
	_ = client.Close()
	_ = server.Close()
}

// chunk is data read at one instant, due for writing at due (CLOCK_MONOTONIC ns).
type chunk struct {
	data []byte
	due  int64
}

// pipe copies src to dst, delaying each chunk. A reader goroutine stamps
// chunks; the writer, on a locked thread with 1 ns timer slack, sleeps until
// each is due.
func (r *Relay) pipe(dst, src net.Conn) {
	queue := make(chan chunk, 4096)
	go func() {
		defer close(queue)
		var lastDue int64
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				due := monotonicNow() + int64(r.profile.OneWay) + r.jitter()
				if due < lastDue { // never overtake the previous chunk
					due = lastDue
				}
				lastDue = due
				select {
				case queue <- chunk{data: buf[:n], due: due}:
				case <-r.ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	timer, err := newDeadlineTimer()
	if err != nil {
		// Without a timer the link cannot be emulated; fail the connection
		// rather than relay it undelayed.
		_ = src.Close()
		_ = dst.Close()
		for range queue { //nolint:revive // draining
		}
		return
	}
	defer timer.Close()
	failed := false
	for c := range queue {
		if err := timer.waitUntil(c.due); err != nil {
			failed = true
			break
		}
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			break
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok && !failed {
		// Propagate the half-close so request/response protocols see EOF.
		_ = tc.CloseWrite()
	} else {
		// A broken direction breaks the connection: unblock the reader.
		_ = src.Close()
		_ = dst.Close()
	}
	// Drain so the reader goroutine can finish.
	for range queue { //nolint:revive // draining
	}
}

func (r *Relay) jitter() int64 {
	j := int64(r.profile.Jitter)
	if j <= 0 {
		return 0
	}
	return rand.Int64N(2*j+1) - j
}

// Close stops accepting, closes every relayed connection and waits for the
// relay's goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.cancel()
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// monotonicNow reads CLOCK_MONOTONIC in nanoseconds.
func monotonicNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// deadlineTimer waits for CLOCK_MONOTONIC deadlines through a timerfd read
// by Go's network poller: the waiting goroutine parks without holding an OS
// thread or a P, and the kernel's high-resolution timer wakes it. Go's own
// timers round sub-millisecond waits up to about a millisecond, and a
// blocking clock_nanosleep would hold one of the runtime's Ps while it
// sleeps, stalling every other goroutine on a small machine.
type deadlineTimer struct {
	f   *os.File
	fd  int // kept apart: File.Fd would switch the descriptor to blocking mode
	buf [8]byte
}

func newDeadlineTimer() (*deadlineTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	// A non-blocking descriptor becomes a pollable *os.File.
	return &deadlineTimer{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}, nil
}

// waitUntil returns once CLOCK_MONOTONIC reaches due (ns).
func (t *deadlineTimer) waitUntil(due int64) error {
	if due-monotonicNow() <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(due)}
	if err := unix.TimerfdSettime(t.fd, unix.TFD_TIMER_ABSTIME, &spec, nil); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	_, err := io.ReadFull(t.f, t.buf[:])
	return err
}

// Close releases the timer.
func (t *deadlineTimer) Close() error { return t.f.Close() }
