package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Server defaults.
const (
	DefaultMaxConns        = 64
	DefaultIdleTimeout     = 5 * time.Second
	DefaultMaxBytesPerConn = 64 * PingSize
)

// Server is the TCP echo endpoint peers probe. Create it with Listen and run
// it with Start; it implements manager.Runnable.
type Server struct {
	// MaxConns bounds concurrently served connections.
	MaxConns int
	// IdleTimeout closes a connection that sends nothing for this long.
	IdleTimeout time.Duration
	// MaxBytesPerConn closes a connection after echoing this many bytes.
	MaxBytesPerConn int64

	ln net.Listener
	wg sync.WaitGroup
}

// Listen opens the listener at addr (host:port; port 0 picks a free one).
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for probes on %q: %w", addr, err)
	}
	return &Server{
		MaxConns:        DefaultMaxConns,
		IdleTimeout:     DefaultIdleTimeout,
		MaxBytesPerConn: DefaultMaxBytesPerConn,
		ln:              ln,
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting connections. Start returns after Close or when its
// context ends.
func (s *Server) Close() error { return s.ln.Close() }

// Start serves until ctx ends, then closes the listener and waits for open
// connections to finish.
func (s *Server) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithValues("address", s.ln.Addr().String())
	log.Info("Serving latency probes")
	stop := context.AfterFunc(ctx, func() { _ = s.ln.Close() })
	defer stop()
	slots := make(chan struct{}, max(s.MaxConns, 1))
	defer s.wg.Wait()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accepting probe connection: %w", err)
		}
		select {
		case slots <- struct{}{}:
		default:
			// Too many probes at once: refuse rather than queue.
			_ = conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.echo(ctx, conn)
		}()
	}
}

// echo copies what conn sends back to it, within the idle and byte limits.
func (s *Server) echo(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	limit := s.MaxBytesPerConn
	if limit <= 0 {
		limit = DefaultMaxBytesPerConn
	}
	buf := make([]byte, PingSize)
	for limit > 0 {
		if err := conn.SetDeadline(time.Now().Add(idle)); err != nil {
			return
		}
		n, err := conn.Read(buf[:min(int64(len(buf)), limit)])
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
			limit -= int64(n)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ctrl.LoggerFrom(ctx).V(2).Info("Probe connection ended", "remote", conn.RemoteAddr().String(), "reason", err.Error())
			}
			return
		}
	}
}

// ErrNoAdvertiseHost means Advertise found no host to publish: set
// --probe-advertise.
var ErrNoAdvertiseHost = errors.New("--probe-advertise is required")

// Advertise returns the host:port to publish for a server listening on
// listen. advertise may be empty, a host, or host:port: a missing host comes
// from the listen address when that is a specific IP, else from podIP; a
// missing port is the listener's.
func Advertise(advertise string, listen net.Addr, podIP string) (string, error) {
	tcp, ok := listen.(*net.TCPAddr)
	if !ok {
		return "", fmt.Errorf("probe listener address %v is not TCP", listen)
	}
	port := fmt.Sprint(tcp.Port)
	host := ""
	if advertise != "" {
		h, p, err := net.SplitHostPort(advertise)
		if err != nil {
			// No port in it: the whole value is the host.
			h, p = advertise, ""
		}
		if p != "" {
			if err := validatePort(p); err != nil {
				return "", fmt.Errorf("--probe-advertise %q: %w", advertise, err)
			}
			port = p
		}
		host = h
	}
	if host == "" && tcp.IP != nil && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	if host == "" {
		host = podIP
	}
	if host == "" {
		return "", fmt.Errorf("%w: the probe listener %s has no specific host and POD_IP is not set", ErrNoAdvertiseHost, listen)
	}
	return net.JoinHostPort(host, port), nil
}
