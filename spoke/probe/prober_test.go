package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// recorder keeps what a Prober published.
type recorder struct {
	mu   sync.Mutex
	last []fleetv1alpha1.PeerLatency
	n    int
}

func (r *recorder) publish(l []fleetv1alpha1.PeerLatency) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.n = l, r.n+1
}

func (r *recorder) get() []fleetv1alpha1.PeerLatency {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func peerNames(l []fleetv1alpha1.PeerLatency) []string {
	out := []string{}
	for _, p := range l {
		out = append(out, p.Peer)
	}
	return out
}

// silentListener accepts connections and never answers.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestProberRound(t *testing.T) {
	g := NewWithT(t)
	good := startServer(t, nil)
	silent := silentListener(t)
	peers := map[string]string{
		"self":    "127.0.0.1:1",
		"good":    good.Addr().String(),
		"silent":  silent,
		"closed":  closedPort(t),
		"Bad_Nm":  good.Addr().String(),
		"no-port": "127.0.0.1",
	}
	rec := &recorder{}
	p := &Prober{
		Self:         "self",
		Peers:        func(context.Context) (map[string]string, error) { return peers, nil },
		Publish:      rec.publish,
		Timeout:      300 * time.Millisecond,
		PingsPerPeer: 4,
	}
	start := time.Now()
	p.Round(context.Background())
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second), "an unresponsive peer is bounded by the timeout")

	got := rec.get()
	g.Expect(peerNames(got)).To(Equal([]string{"good"}), "only the reachable, valid peer has figures")
	g.Expect(got[0].Samples).To(Equal(int32(4)))
	g.Expect(got[0].P50.Duration).To(BeNumerically(">", 0))
	g.Expect(got[0].P99.Duration).To(BeNumerically(">=", got[0].P50.Duration))

	p.Round(context.Background())
	g.Expect(rec.get()[0].Samples).To(BeNumerically(">=", int32(4)))
	g.Expect(rec.n).To(Equal(2))
}

func TestProberForgetsRemovedPeersAndKeepsPeersWhenTheListFails(t *testing.T) {
	g := NewWithT(t)
	a := startServer(t, nil)
	b := startServer(t, nil)
	var mu sync.Mutex
	peers := map[string]string{"a": a.Addr().String(), "b": b.Addr().String()}
	var listErr error
	rec := &recorder{}
	p := &Prober{
		Peers: func(context.Context) (map[string]string, error) {
			mu.Lock()
			defer mu.Unlock()
			return peers, listErr
		},
		Publish:      rec.publish,
		PingsPerPeer: 2,
	}
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"a", "b"}))

	mu.Lock()
	listErr = errors.New("hub unreachable")
	peers = nil
	mu.Unlock()
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"a", "b"}), "a failed peer list keeps the last known peers")

	mu.Lock()
	listErr = nil
	peers = map[string]string{"b": b.Addr().String()}
	mu.Unlock()
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"b"}), "a peer removed from the list is no longer reported")
}

func TestProberBoundsPeersPerRound(t *testing.T) {
	g := NewWithT(t)
	s := startServer(t, nil)
	peers := map[string]string{}
	for i := range 5 {
		peers[fmt.Sprintf("p%d", i)] = s.Addr().String()
	}
	rec := &recorder{}
	p := &Prober{
		Peers:            func(context.Context) (map[string]string, error) { return peers, nil },
		Publish:          rec.publish,
		PingsPerPeer:     1,
		MaxPeersPerRound: 2,
	}
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"p0", "p1"}))
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"p0", "p1", "p2", "p3"}))
	p.Round(context.Background())
	g.Expect(peerNames(rec.get())).To(Equal([]string{"p0", "p1", "p2", "p3", "p4"}), "every peer is probed in turn")
	for _, l := range rec.get() {
		g.Expect(l.Samples).To(BeNumerically("<=", int32(2)), "each round pings at most MaxPeersPerRound peers")
	}
}

func TestValidPeers(t *testing.T) {
	testCases := []struct {
		name     string
		raw      map[string]string
		want     map[string]string
		rejected []string
	}{
		{
			name: "valid entries pass, self is skipped silently",
			raw:  map[string]string{"a": "10.0.0.1:9473", "b": "spoke-b.example.com:1", "me": "10.0.0.9:9473"},
			want: map[string]string{"a": "10.0.0.1:9473", "b": "spoke-b.example.com:1"},
		},
		{
			name:     "bad names and addresses are rejected",
			raw:      map[string]string{"UPPER": "10.0.0.1:1", "noport": "10.0.0.1", "zero": "10.0.0.1:0", "nohost": ":80", "big": "h:70000", "v6": "[fd00::1]:9473"},
			want:     map[string]string{"v6": "[fd00::1]:9473"},
			rejected: []string{"UPPER", "noport", "zero", "nohost", "big"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var rejected []string
			got := ValidPeers(tc.raw, "me", func(name, _ string, err error) {
				g.Expect(err).To(HaveOccurred())
				rejected = append(rejected, name)
			})
			g.Expect(got).To(Equal(tc.want))
			g.Expect(rejected).To(ConsistOf(tc.rejected))
		})
	}
}
