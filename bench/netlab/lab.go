package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Prefix starts the name of every namespace, and of every working directory,
// that a Lab creates.
const Prefix = "berth-bench-"

// ErrNotRoot is returned by New when the process is not root.
var ErrNotRoot = errors.New("the benchmark builds network namespaces, veth pairs and bridges and must run as root (try: sudo berthctl bench dataplane, or sudo berthctl bench blastradius)")

// Lab is a set of network namespaces, the links between them and the
// processes running in them, owned by this process.
type Lab struct {
	// ID is the owner's pid; it is part of every name the lab creates.
	ID string
	// WorkDir is a private directory for configuration files, data and logs.
	WorkDir string

	mu         sync.Mutex
	namespaces []*NetNS
	procs      []*Process
	closed     bool
}

// New checks for root and iproute2, removes leftovers of dead labs, and
// returns an empty lab whose working directory lives under baseDir (the
// system temporary directory when empty).
func New(ctx context.Context, baseDir string) (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("the data-path benchmark needs the ip command from iproute2: %w", err)
	}
	if err := CleanupLeftovers(ctx); err != nil {
		return nil, err
	}
	id := strconv.Itoa(os.Getpid())
	dir, err := os.MkdirTemp(baseDir, Prefix+id+"-")
	if err != nil {
		return nil, fmt.Errorf("creating the lab working directory: %w", err)
	}
	// Servers that drop root (PostgreSQL) must be able to reach their
	// subdirectories.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening up the lab working directory: %w", err)
	}
	return &Lab{ID: id, WorkDir: dir}, nil
}

// Namespace creates the namespace berth-bench-<id>-<role> with its loopback
// interface up.
func (l *Lab) Namespace(ctx context.Context, role string) (*NetNS, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("the lab is closed")
	}
	ns := newNetNS(Prefix + l.ID + "-" + role)
	if err := ip(ctx, "netns", "add", ns.Name); err != nil {
		return nil, err
	}
	l.namespaces = append(l.namespaces, ns)
	if err := ip(ctx, "-n", ns.Name, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	return ns, nil
}

// Bridge creates an up bridge named name inside ns.
func (l *Lab) Bridge(ctx context.Context, ns *NetNS, name string) error {
	if err := ip(ctx, "-n", ns.Name, "link", "add", name, "type", "bridge"); err != nil {
		return err
	}
	return ip(ctx, "-n", ns.Name, "link", "set", name, "up")
}

// Attach connects ns to a bridge: interface ifname in ns gets address cidr
// (for example 10.201.1.10/24), and its peer, portName, becomes a port of
// bridge in bridgeNS.
func (l *Lab) Attach(ctx context.Context, ns *NetNS, ifname, cidr string, bridgeNS *NetNS, bridge, portName string) error {
	if err := ip(ctx, "-n", ns.Name, "link", "add", ifname, "type", "veth", "peer", "name", portName, "netns", bridgeNS.Name); err != nil {
		return err
	}
	if err := ip(ctx, "-n", bridgeNS.Name, "link", "set", portName, "master", bridge, "up"); err != nil {
		return err
	}
	return l.address(ctx, ns, ifname, cidr)
}

// Veth connects two namespaces point to point.
func (l *Lab) Veth(ctx context.Context, a *NetNS, aIf, aCIDR string, b *NetNS, bIf, bCIDR string) error {
	if err := ip(ctx, "-n", a.Name, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name); err != nil {
		return err
	}
	if err := l.address(ctx, a, aIf, aCIDR); err != nil {
		return err
	}
	return l.address(ctx, b, bIf, bCIDR)
}

func (l *Lab) address(ctx context.Context, ns *NetNS, ifname, cidr string) error {
	if err := ip(ctx, "-n", ns.Name, "addr", "add", cidr, "dev", ifname); err != nil {
		return err
	}
	return ip(ctx, "-n", ns.Name, "link", "set", ifname, "up")
}

// Route adds a route to dst via gateway in ns.
func (l *Lab) Route(ctx context.Context, ns *NetNS, dst, via string) error {
	return ip(ctx, "-n", ns.Name, "route", "add", dst, "via", via)
}

// Forward turns on IPv4 forwarding inside ns.
func (l *Lab) Forward(ctx context.Context, ns *NetNS) error {
	return run(ctx, "ip", "netns", "exec", ns.Name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
}

// Close stops every process, deletes every namespace and removes the
// working directory. It is safe to call more than once and keeps going past
// errors, returning them joined.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, namespaces := l.procs, l.namespaces
	l.mu.Unlock()

	// Cleanup must run even when the caller's context is cancelled (Ctrl-C).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Stop(5 * time.Second)
		}()
	}
	wg.Wait()
	for i := len(namespaces) - 1; i >= 0; i-- {
		ns := namespaces[i]
		ns.close()
		if err := removeNamespace(ctx, ns.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(l.WorkDir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", l.WorkDir, err))
	}
	return errors.Join(errs...)
}

// removeNamespace kills whatever still runs in the namespace and deletes it.
func removeNamespace(ctx context.Context, name string) error {
	if _, err := os.Stat(netnsDir + "/" + name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		pids := namespacePIDs(ctx, name)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, sig)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && len(namespacePIDs(ctx, name)) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := ip(ctx, "netns", "delete", name); err != nil {
		return err
	}
	return nil
}

// namespacePIDs lists the processes inside a namespace.
func namespacePIDs(ctx context.Context, name string) []int {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", name).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// CleanupLeftovers deletes namespaces and working directories named
// berth-bench-<pid>-... whose pid no longer runs, with every process inside
// them. Labs of live processes are not touched.
func CleanupLeftovers(ctx context.Context) error {
	var errs []error
	entries, err := os.ReadDir(netnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("listing %s: %w", netnsDir, err)
	}
	for _, e := range entries {
		if !ownerGone(e.Name()) {
			continue
		}
		if err := removeNamespace(ctx, e.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	tmp, err := os.ReadDir(os.TempDir())
	if err == nil {
		for _, e := range tmp {
			if e.IsDir() && ownerGone(e.Name()) {
				if err := os.RemoveAll(os.TempDir() + "/" + e.Name()); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// ownerGone reports whether name is berth-bench-<pid>-... and pid is not a
// running process.
func ownerGone(name string) bool {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	// A killed owner may linger as a zombie until its parent reaps it.
	stat, err := os.ReadFile("/proc/" + pidText + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		state := stat[i+2]
		return state == 'Z' || state == 'X'
	}
	return false
}

// ip runs the ip command and returns its stderr in the error.
func ip(ctx context.Context, args ...string) error {
	return run(ctx, "ip", args...)
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
