package probe

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func startServer(t *testing.T, configure func(*Server)) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return s
}

func TestServerEchoes(t *testing.T) {
	g := NewWithT(t)
	s := startServer(t, nil)
	samples, err := Ping(context.Background(), s.Addr().String(), 5, 2*time.Second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(samples).To(HaveLen(5))
	for _, sm := range samples {
		g.Expect(sm.rtt).To(BeNumerically(">", 0))
		g.Expect(sm.rtt).To(BeNumerically("<", 2*time.Second))
	}
}

func TestServerClosesAfterByteLimit(t *testing.T) {
	g := NewWithT(t)
	s := startServer(t, func(s *Server) { s.MaxBytesPerConn = 2 * PingSize })
	samples, err := Ping(context.Background(), s.Addr().String(), 5, 2*time.Second)
	g.Expect(err).To(MatchError(ContainSubstring("reading echo 2")))
	g.Expect(samples).To(HaveLen(2), "the two pings within the limit are measured")
}

func TestServerClosesIdleConnections(t *testing.T) {
	g := NewWithT(t)
	s := startServer(t, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", s.Addr().String())
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	g.Expect(conn.SetReadDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
	_, err = conn.Read(make([]byte, 1))
	g.Expect(err).To(MatchError(io.EOF), "the server closes a silent connection")
}

func TestServerRefusesBeyondMaxConns(t *testing.T) {
	g := NewWithT(t)
	s := startServer(t, func(s *Server) { s.MaxConns = 1 })
	first, err := net.Dial("tcp", s.Addr().String())
	g.Expect(err).NotTo(HaveOccurred())
	defer first.Close()
	// Make sure the first connection holds the only slot.
	_, err = first.Write(make([]byte, PingSize))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = io.ReadFull(first, make([]byte, PingSize))
	g.Expect(err).NotTo(HaveOccurred())

	_, err = Ping(context.Background(), s.Addr().String(), 1, 2*time.Second)
	g.Expect(err).To(HaveOccurred(), "a second concurrent connection is refused")
}

func TestServerStopsWithContext(t *testing.T) {
	g := NewWithT(t)
	s, err := Listen("127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	conn, err := net.Dial("tcp", s.Addr().String())
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	cancel()
	g.Eventually(done, 5*time.Second).Should(Receive(BeNil()), "Start returns even with an open connection")
	_, err = net.DialTimeout("tcp", s.Addr().String(), time.Second)
	g.Expect(err).To(HaveOccurred(), "the listener is closed")
}

func TestAdvertise(t *testing.T) {
	testCases := []struct {
		name      string
		advertise string
		listen    net.Addr
		podIP     string
		want      string
		wantErr   string
	}{
		{name: "specific listen IP", listen: &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 9473}, want: "10.0.0.5:9473"},
		{name: "wildcard listen uses POD_IP", listen: &net.TCPAddr{IP: net.IPv4zero, Port: 9473}, podIP: "10.1.2.3", want: "10.1.2.3:9473"},
		{name: "no IP at all uses POD_IP", listen: &net.TCPAddr{Port: 9473}, podIP: "fd00::1", want: "[fd00::1]:9473"},
		{name: "advertise host keeps the listener port", advertise: "spoke.example.com", listen: &net.TCPAddr{IP: net.IPv4zero, Port: 40000}, want: "spoke.example.com:40000"},
		{name: "advertise host:port wins", advertise: "203.0.113.7:31000", listen: &net.TCPAddr{IP: net.IPv4zero, Port: 9473}, podIP: "10.1.2.3", want: "203.0.113.7:31000"},
		{name: "advertise port only takes the listen host", advertise: ":31000", listen: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9473}, want: "127.0.0.1:31000"},
		{name: "wildcard without POD_IP is an error", listen: &net.TCPAddr{IP: net.IPv4zero, Port: 9473}, wantErr: ErrNoAdvertiseHost.Error()},
		{name: "bad advertise port", advertise: "host:99999", listen: &net.TCPAddr{Port: 1}, wantErr: "--probe-advertise"},
		{name: "non-TCP listener", listen: &net.UnixAddr{Name: "/tmp/x"}, wantErr: "not TCP"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := Advertise(tc.advertise, tc.listen, tc.podIP)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}
