package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns` keeps its bind-mounted namespace handles.
const netnsDir = "/run/netns"

// NetNS is one named network namespace.
type NetNS struct {
	// Name is the namespace name as `ip netns` shows it.
	Name string

	once  sync.Once
	work  chan func()
	stop  chan struct{}
	ready chan error
}

func newNetNS(name string) *NetNS {
	return &NetNS{Name: name, work: make(chan func()), stop: make(chan struct{}), ready: make(chan error, 1)}
}

// start launches the goroutine that owns a thread inside the namespace.
func (n *NetNS) start() error {
	n.once.Do(func() {
		go n.loop()
	})
	err := <-n.ready
	n.ready <- err // keep the answer for later callers
	return err
}

// loop locks itself to an OS thread, joins the namespace and runs submitted
// functions until stop is closed. It returns without unlocking the thread,
// so the Go runtime destroys the thread instead of reusing it elsewhere.
func (n *NetNS) loop() {
	runtime.LockOSThread()
	fd, err := unix.Open(filepath.Join(netnsDir, n.Name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		n.ready <- fmt.Errorf("opening network namespace %s: %w", n.Name, err)
		return
	}
	err = unix.Setns(fd, unix.CLONE_NEWNET)
	_ = unix.Close(fd)
	if err != nil {
		n.ready <- fmt.Errorf("joining network namespace %s: %w", n.Name, err)
		return
	}
	n.ready <- nil
	for {
		select {
		case f := <-n.work:
			f()
		case <-n.stop:
			return
		}
	}
}

// Do runs f on a thread inside the namespace and waits for it. Sockets that
// f creates belong to the namespace and may be used from any goroutine
// afterwards. f must not start goroutines that create sockets.
func (n *NetNS) Do(ctx context.Context, f func() error) error {
	if err := n.start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	select {
	case n.work <- func() { done <- f() }:
	case <-n.stop:
		return fmt.Errorf("network namespace %s is closed", n.Name)
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

// DialContext dials addr from inside the namespace. Its signature fits the
// dial hooks of go-redis (Options.Dialer) and pgx (ConnConfig.DialFunc).
func (n *NetNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := n.Do(ctx, func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		conn = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dialing %s from namespace %s: %w", addr, n.Name, err)
	}
	return conn, nil
}

// Listen opens a listener inside the namespace.
func (n *NetNS) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := n.Do(ctx, func() error {
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, network, addr)
		ln = l
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listening on %s in namespace %s: %w", addr, n.Name, err)
	}
	return ln, nil
}

// close stops the namespace's thread.
func (n *NetNS) close() {
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
}

// exists reports whether the namespace handle is present.
func (n *NetNS) exists() bool {
	_, err := os.Stat(filepath.Join(netnsDir, n.Name))
	return !errors.Is(err, os.ErrNotExist)
}
