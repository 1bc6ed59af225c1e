package linkemu

import (
	"bytes"
	"context"
	"io"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// echoServer echoes every connection on loopback until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func newTestRelay(t *testing.T, target string, p Profile) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	r := NewRelay(ln, d.DialContext, target, p)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// pingPong measures n sequential 64-byte round trips on conn.
func pingPong(t *testing.T, conn net.Conn, n int) []time.Duration {
	t.Helper()
	msg := bytes.Repeat([]byte("x"), 64)
	buf := make([]byte, 64)
	rtts := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	return rtts
}

func TestParseProfile(t *testing.T) {
	testCases := []struct {
		name    string
		in      string
		want    Profile
		wantErr string
	}{
		{name: "zero", in: "0", want: Profile{Name: "0"}},
		{name: "half a millisecond", in: "0.5ms", want: Profile{Name: "0.5ms", OneWay: 500 * time.Microsecond, Jitter: 50 * time.Microsecond}},
		{name: "not a duration", in: "fast", wantErr: `profile "fast"`},
		{name: "negative", in: "-1ms", wantErr: "between 0 and 10s"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseProfile(tc.in)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// TestRelayDelaysEachDirection checks that a round trip through the relay
// takes at least twice the one-way delay, and not wildly more.
func TestRelayDelaysEachDirection(t *testing.T) {
	g := NewWithT(t)
	r := newTestRelay(t, echoServer(t), Profile{Name: "2ms", OneWay: 2 * time.Millisecond})
	conn, err := net.Dial("tcp", r.Addr())
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	rtts := pingPong(t, conn, 50)
	g.Expect(rtts[0]).To(BeNumerically(">=", 4*time.Millisecond), "the fastest round trip must carry both one-way delays")
	g.Expect(rtts[len(rtts)/2]).To(BeNumerically("<", 8*time.Millisecond), "the median round trip must stay near 4 ms")
}

// TestRelayKeepsOrderUnderJitter sends a numbered stream through a relay
// whose jitter is as large as its delay; the bytes must arrive in order.
func TestRelayKeepsOrderUnderJitter(t *testing.T) {
	g := NewWithT(t)
	r := newTestRelay(t, echoServer(t), Profile{Name: "1ms", OneWay: time.Millisecond, Jitter: time.Millisecond})
	conn, err := net.Dial("tcp", r.Addr())
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	var sent bytes.Buffer
	for i := range 20000 {
		sent.WriteByte(byte(i % 251))
	}
	var got []byte
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, sent.Len())
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, _ := io.ReadFull(conn, buf)
		got = buf[:n]
	}()
	data := sent.Bytes()
	for i := 0; i < len(data); i += 100 { // many small writes: many chunks
		_, err := conn.Write(data[i:min(i+100, len(data))])
		g.Expect(err).NotTo(HaveOccurred())
	}
	wg.Wait()
	g.Expect(got).To(Equal(data))
}

// TestRelayCloseEndsConnections checks that Close returns with a
// connection still open, and that the client sees it closed.
func TestRelayCloseEndsConnections(t *testing.T) {
	g := NewWithT(t)
	r := newTestRelay(t, echoServer(t), Profile{Name: "1ms", OneWay: time.Millisecond})
	conn, err := net.Dial("tcp", r.Addr())
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	pingPong(t, conn, 1)
	done := make(chan error, 1)
	go func() { done <- r.Close() }()
	g.Eventually(done, 10*time.Second).Should(Receive(BeNil()))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	g.Expect(err).To(HaveOccurred())
}

// BenchmarkRelayRoundTrip reports the round trip through a 0.5 ms relay
// from several concurrent connections; compare rtt-p50-us with 1000.
func BenchmarkRelayRoundTrip(b *testing.B) {
	for _, conns := range []int{1, 8} {
		b.Run(map[int]string{1: "conns=1", 8: "conns=8"}[conns], func(b *testing.B) {
			t := &testing.T{}
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
				}
			}()
			defer ln.Close()
			rl, _ := net.Listen("tcp", "127.0.0.1:0")
			var d net.Dialer
			r := NewRelay(rl, d.DialContext, ln.Addr().String(), Profile{OneWay: 500 * time.Microsecond, Jitter: 50 * time.Microsecond})
			defer r.Close()
			var mu sync.Mutex
			var all []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(1, b.N/conns)
			for range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := d.DialContext(context.Background(), "tcp", r.Addr())
					if err != nil {
						return
					}
					defer c.Close()
					rtts := pingPong(t, c, per)
					mu.Lock()
					all = append(all, rtts...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "rtt-p50-us")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "rtt-p99-us")
			}
		})
	}
}
