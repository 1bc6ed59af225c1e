package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	ctrl "sigs.k8s.io/controller-runtime"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// PingSize is the size of one ping in bytes.
const PingSize = 16

// Prober defaults.
const (
	DefaultInterval         = 30 * time.Second
	DefaultTimeout          = time.Second
	DefaultPingsPerPeer     = 5
	DefaultMaxPeersPerRound = 32
	DefaultConcurrency      = 4
	DefaultWindowSize       = 60
	DefaultSampleTTL        = 10 * time.Minute
	DefaultChangeThreshold  = 0.1
	DefaultRefresh          = 5 * time.Minute
	peerListTimeout         = 5 * time.Second
)

// PeerSource returns the peers to probe: member name -> host:port.
type PeerSource func(ctx context.Context) (map[string]string, error)

// Prober measures the RTT to peers and publishes p50/p99 per peer. It
// implements manager.Runnable. Zero fields take the defaults above.
type Prober struct {
	// Self is this member's name; an entry for it is ignored.
	Self string
	// Peers lists the peers; it is called once per round.
	Peers PeerSource
	// Publish receives the figures after every round, sorted by peer.
	Publish func([]fleetv1alpha1.PeerLatency)

	// Interval between the starts of two rounds.
	Interval time.Duration
	// Timeout bounds the whole exchange with one peer, dial included.
	Timeout time.Duration
	// PingsPerPeer is how many pings one exchange sends.
	PingsPerPeer int
	// MaxPeersPerRound bounds how many peers one round probes; the others
	// are probed in later rounds.
	MaxPeersPerRound int
	// Concurrency bounds how many peers are probed at the same time.
	Concurrency int
	// WindowSize is how many samples per peer the figures come from.
	WindowSize int
	// SampleTTL drops samples older than this.
	SampleTTL time.Duration
	// ChangeThreshold and Refresh are Stabilize's arguments.
	ChangeThreshold float64
	Refresh         time.Duration

	mu        sync.Mutex
	windows   map[string]*window
	published []fleetv1alpha1.PeerLatency
	lastPeers map[string]string
	rejected  map[string]string
	cursor    int
	listFails int
}

func (p *Prober) defaults() {
	if p.Interval <= 0 {
		p.Interval = DefaultInterval
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.PingsPerPeer <= 0 {
		p.PingsPerPeer = DefaultPingsPerPeer
	}
	if p.MaxPeersPerRound <= 0 {
		p.MaxPeersPerRound = DefaultMaxPeersPerRound
	}
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultConcurrency
	}
	if p.WindowSize <= 0 {
		p.WindowSize = DefaultWindowSize
	}
	if p.SampleTTL <= 0 {
		p.SampleTTL = DefaultSampleTTL
	}
	if p.ChangeThreshold <= 0 {
		p.ChangeThreshold = DefaultChangeThreshold
	}
	if p.Refresh <= 0 {
		p.Refresh = DefaultRefresh
	}
	if p.windows == nil {
		p.windows = map[string]*window{}
	}
}

// Start runs a round immediately and then every Interval until ctx ends.
func (p *Prober) Start(ctx context.Context) error {
	if p.Peers == nil || p.Publish == nil {
		return errors.New("prober needs Peers and Publish")
	}
	p.defaults()
	ticker := time.NewTicker(p.Interval)
	defer ticker.Stop()
	for {
		p.Round(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Round runs one probe round and publishes the figures.
func (p *Prober) Round(ctx context.Context) {
	p.defaults()
	log := ctrl.LoggerFrom(ctx)
	listCtx, cancel := context.WithTimeout(ctx, peerListTimeout)
	raw, err := p.Peers(listCtx)
	cancel()
	if err != nil {
		// Keep probing the peers we knew: the hub being away does not
		// change where the peers are. Say so once per outage.
		if p.listFails == 0 {
			log.Info("Cannot read the peer list, probing the last known peers", "peers", len(p.lastPeers), "error", err.Error())
		}
		p.listFails++
		raw = p.lastPeers
	} else {
		if p.listFails > 0 {
			log.Info("Reading the peer list again", "failedRounds", p.listFails)
		}
		p.listFails = 0
		p.lastPeers = raw
	}
	rejected := map[string]string{}
	peers := ValidPeers(raw, p.Self, func(name, addr string, err error) {
		rejected[name] = addr
		// Say it once per entry, not every round.
		if prev, seen := p.rejected[name]; !seen || prev != addr {
			log.Info("Ignoring invalid peer entry", "peer", name, "address", addr, "error", err.Error())
		}
	})
	p.rejected = rejected

	targets := p.pick(peers)
	type result struct {
		peer    string
		samples []sample
		err     error
	}
	results := make(chan result, len(targets))
	slots := make(chan struct{}, p.Concurrency)
	var wg sync.WaitGroup
	for _, peer := range targets {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s, err := Ping(ctx, peers[peer], p.PingsPerPeer, p.Timeout)
			results <- result{peer: peer, samples: s, err: err}
		}()
	}
	wg.Wait()
	close(results)

	now := time.Now()
	p.mu.Lock()
	for r := range results {
		if r.err != nil {
			log.V(1).Info("Probe failed", "peer", r.peer, "address", peers[r.peer], "error", r.err.Error())
		}
		w := p.windows[r.peer]
		if w == nil {
			w = &window{}
			p.windows[r.peer] = w
		}
		for _, s := range r.samples {
			w.add(s, p.WindowSize)
		}
	}
	var next []fleetv1alpha1.PeerLatency
	for name, w := range p.windows {
		w.expire(now.Add(-p.SampleTTL))
		if _, listed := peers[name]; !listed || len(w.samples) == 0 {
			delete(p.windows, name)
			continue
		}
		if l, ok := w.latency(name); ok {
			next = append(next, l)
		}
	}
	p.published = Stabilize(p.published, next, p.ChangeThreshold, p.Refresh, now)
	out := slices.Clone(p.published)
	p.mu.Unlock()
	p.Publish(out)
}

// pick returns at most MaxPeersPerRound peer names, continuing after the
// ones picked last round so every peer is probed in turn.
func (p *Prober) pick(peers map[string]string) []string {
	names := slices.Sorted(maps.Keys(peers))
	if len(names) <= p.MaxPeersPerRound {
		p.cursor = 0
		return names
	}
	out := make([]string, 0, p.MaxPeersPerRound)
	for i := range p.MaxPeersPerRound {
		out = append(out, names[(p.cursor+i)%len(names)])
	}
	p.cursor = (p.cursor + p.MaxPeersPerRound) % len(names)
	return out
}

// ValidPeers returns the entries of raw whose name is a DNS-1123 label other
// than self and whose address is host:port with a port in 1-65535. Each
// rejected entry is passed to reject, if not nil.
func ValidPeers(raw map[string]string, self string, reject func(name, addr string, err error)) map[string]string {
	out := make(map[string]string, len(raw))
	for name, addr := range raw {
		if name == self {
			continue
		}
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			if reject != nil {
				reject(name, addr, fmt.Errorf("peer name: %s", errs[0]))
			}
			continue
		}
		if err := validateAddress(addr); err != nil {
			if reject != nil {
				reject(name, addr, err)
			}
			continue
		}
		out[name] = addr
	}
	return out
}

func validateAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("peer address must be host:port: %w", err)
	}
	if host == "" {
		return errors.New("peer address has no host")
	}
	return validatePort(port)
}

func validatePort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q must be a number in 1-65535", port)
	}
	return nil
}

// Ping dials addr and times count echo exchanges of PingSize bytes. The whole
// call, dial included, is bounded by timeout. It returns the samples taken
// before any error.
func Ping(ctx context.Context, addr string, count int, timeout time.Duration) ([]sample, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return nil, fmt.Errorf("setting deadline: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("reading nonce: %w", err)
	}
	out := make([]sample, 0, count)
	ping := make([]byte, PingSize)
	echo := make([]byte, PingSize)
	for i := range count {
		binary.BigEndian.PutUint64(ping[:8], uint64(i))
		copy(ping[8:], nonce[:])
		start := time.Now()
		if _, err := conn.Write(ping); err != nil {
			return out, fmt.Errorf("writing ping %d to %s: %w", i, addr, err)
		}
		if _, err := io.ReadFull(conn, echo); err != nil {
			return out, fmt.Errorf("reading echo %d from %s: %w", i, addr, err)
		}
		rtt := time.Since(start)
		if !bytes.Equal(ping, echo) {
			return out, fmt.Errorf("echo %d from %s does not match the ping", i, addr)
		}
		out = append(out, sample{at: time.Now(), rtt: rtt})
	}
	return out, nil
}
