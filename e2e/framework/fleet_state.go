package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-io/berth/hack/clustertools"
)

// Phases of a fleet's state file.
const (
	phaseStarting = "Starting"
	phaseRunning  = "Running"
)

// autoPortStart and autoPortEnd bound the ports picked when BasePort is 0.
// They stay below Linux's ephemeral range (32768+), so outgoing connections
// never hold them.
const (
	autoPortStart = 30000
	autoPortEnd   = 32760
)

// fleetState is <fleet dir>/state.json: what a later process needs to find,
// use or remove the fleet.
type fleetState struct {
	Name       string     `json:"name"`
	Persistent bool       `json:"persistent,omitempty"`
	Owner      *ownerRef  `json:"owner,omitempty"`
	Phase      string     `json:"phase"`
	Created    time.Time  `json:"created"`
	CAPI       *CAPISpec  `json:"capi,omitempty"`
	Clusters   []*Cluster `json:"clusters"`
}

// ownerRef names the process that started a non-persistent fleet; its start
// time guards against a reused pid.
type ownerRef struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// fleet builds the in-memory Fleet of a state.
func (st *fleetState) fleet() *Fleet {
	dir := filepath.Join(FleetsDir(), st.Name)
	return &Fleet{
		Name: st.Name, Dir: dir, KubeconfigPath: filepath.Join(dir, "kubeconfig.yaml"),
		Clusters: st.Clusters, CAPI: st.CAPI,
	}
}

func readState(dir string) (*fleetState, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	st := &fleetState{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "state.json"), err)
	}
	return st, nil
}

func writeState(dir string, st *fleetState) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding fleet state: %w", err)
	}
	tmp := filepath.Join(dir, ".state.json.tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("writing fleet state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "state.json")); err != nil {
		return fmt.Errorf("writing fleet state: %w", err)
	}
	return nil
}

// withFleetsLock runs fn holding an exclusive lock on the fleets directory,
// so processes starting fleets at the same time neither pick the same ports
// nor remove each other's fleets.
func withFleetsLock(fn func() error) error {
	if err := os.MkdirAll(FleetsDir(), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", FleetsDir(), err)
	}
	lock, err := os.OpenFile(filepath.Join(FleetsDir(), ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("opening the fleets lock: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", FleetsDir(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	return fn()
}

// reserveFleet removes leftovers, claims the fleet's name and ports and
// writes its state in phase Starting, all under the fleets lock.
func reserveFleet(ctx context.Context, spec FleetSpec) (*fleetState, error) {
	bins, err := clustertools.Locate()
	if err != nil {
		return nil, err
	}
	var st *fleetState
	err = withFleetsLock(func() error {
		if err := sweepLeftovers(ctx, bins.Kwokctl, spec.Logf); err != nil {
			return err
		}
		dir := filepath.Join(FleetsDir(), spec.Name)
		if old, err := readState(dir); err == nil {
			if owner := old.Owner; owner != nil && owner.alive() {
				return fmt.Errorf("fleet %q is being started or used by process %d; wait for it or pick another fleet name", spec.Name, owner.PID)
			}
			spec.Logf("Removing the previous fleet %s", spec.Name)
		}
		if err := removeFleetDir(ctx, bins.Kwokctl, dir); err != nil {
			return err
		}
		ports, err := allocatePorts(spec, reservedPorts())
		if err != nil {
			return err
		}
		st = newFleetState(spec, ports)
		for _, sub := range []string{"kwok", "config", "kubeconfig", "logs", "offline"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return fmt.Errorf("creating fleet directory: %w", err)
			}
		}
		if err := writeState(dir, st); err != nil {
			return err
		}
		return writeKubectlShim(dir)
	})
	return st, err
}

// newFleetState lays out the clusters of a (defaulted) spec on the ports.
func newFleetState(spec FleetSpec, ports []ClusterPorts) *fleetState {
	dir := filepath.Join(FleetsDir(), spec.Name)
	st := &fleetState{Name: spec.Name, Persistent: spec.Persistent, Phase: phaseStarting, Created: time.Now().UTC(), CAPI: spec.CAPI}
	// The starting process owns every fleet; a persistent fleet drops its
	// owner once it is up.
	st.Owner = selfOwner()
	for i, c := range spec.Clusters {
		st.Clusters = append(st.Clusters, &Cluster{
			Name:           c.Name,
			Role:           c.Role,
			Endpoint:       fmt.Sprintf("https://127.0.0.1:%d", ports[i].APIServer),
			KubeconfigPath: filepath.Join(dir, "kubeconfig", c.Name+".yaml"),
			Ports:          ports[i],
			NodePools:      c.NodePools,
		})
	}
	return st
}

// sweepLeftovers removes every fleet whose starting process died, and any
// fleet directory without a state file. The caller holds the fleets lock.
func sweepLeftovers(ctx context.Context, kwokctl string, logf func(string, ...any)) error {
	entries, err := os.ReadDir(FleetsDir())
	if err != nil {
		return fmt.Errorf("reading %s: %w", FleetsDir(), err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".logs-") {
			// Logs of failed starts are kept for a day.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
				errs = append(errs, os.RemoveAll(filepath.Join(FleetsDir(), e.Name())))
			}
			continue
		}
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(FleetsDir(), e.Name())
		st, err := readState(dir)
		if !isStale(st, err, (*ownerRef).alive) {
			continue
		}
		logf("Removing leftovers of fleet %s", e.Name())
		if err := removeFleetDir(ctx, kwokctl, dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isStale says whether a fleet directory is a leftover, given its state (or
// the error reading it). A fleet is live while the process that starts or
// owns it runs, and a persistent fleet once it finished starting (its owner
// is then cleared).
func isStale(st *fleetState, readErr error, alive func(*ownerRef) bool) bool {
	switch {
	case readErr != nil:
		return true
	case st.Owner != nil:
		return !alive(st.Owner)
	default:
		return !st.Persistent || st.Phase != phaseRunning
	}
}

// reservedPorts are the ports of every fleet that has a state file; the
// caller holds the fleets lock.
func reservedPorts() map[int]bool {
	used := map[int]bool{}
	entries, _ := os.ReadDir(FleetsDir())
	for _, e := range entries {
		st, err := readState(filepath.Join(FleetsDir(), e.Name()))
		if err != nil {
			continue
		}
		for _, c := range st.Clusters {
			for _, p := range c.Ports.list() {
				used[p.port] = true
			}
		}
	}
	return used
}

// PortInUseError reports a port the fleet needs that something else holds.
type PortInUseError struct {
	// Port that is taken.
	Port int
	// Component that needs it.
	Component string
	// Cluster that needs it.
	Cluster string
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d for %s of cluster %s is already in use", e.Port, e.Component, e.Cluster)
}

// allocatePorts gives each cluster its ports: from spec.BasePort when set
// (failing with a PortInUseError on a clash), else the first free ranges.
func allocatePorts(spec FleetSpec, reserved map[int]bool) ([]ClusterPorts, error) {
	if spec.BasePort != 0 {
		return allocatePortsWith(spec, reserved, portFreeSoon)
	}
	return allocatePortsWith(spec, reserved, portFree)
}

// portFreeSoon waits up to two seconds for a port to become free: the
// sockets of a fleet that was just removed may take a moment to close.
func portFreeSoon(port int) bool {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if portFree(port) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func allocatePortsWith(spec FleetSpec, reserved map[int]bool, free func(int) bool) ([]ClusterPorts, error) {
	out := make([]ClusterPorts, 0, len(spec.Clusters))
	if spec.BasePort != 0 {
		for i, c := range spec.Clusters {
			ports := portsFrom(spec.BasePort + portsPerCluster*i)
			for _, p := range ports.list() {
				if reserved[p.port] || !free(p.port) {
					return nil, &PortInUseError{Port: p.port, Component: p.component, Cluster: c.Name}
				}
			}
			out = append(out, ports)
		}
		return out, nil
	}
	base := autoPortStart
	for range spec.Clusters {
		for ; ; base += portsPerCluster {
			if base+portsPerCluster > autoPortEnd {
				return nil, fmt.Errorf("no free range of %d ports between %d and %d for the fleet", portsPerCluster, autoPortStart, autoPortEnd)
			}
			ports := portsFrom(base)
			ok := true
			for _, p := range ports.list() {
				if reserved[p.port] || !free(p.port) {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, ports)
				base += portsPerCluster
				break
			}
		}
	}
	return out, nil
}

// portFree says whether nothing listens on the port, on loopback or on any
// address.
func portFree(port int) bool {
	for _, addr := range []string{"127.0.0.1", ""} {
		l, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

// selfOwner identifies this process.
func selfOwner() *ownerRef {
	pid := os.Getpid()
	start, _ := processStartTime(pid)
	return &ownerRef{PID: pid, StartTime: start}
}

// alive says whether the owning process still runs.
func (o *ownerRef) alive() bool {
	start, err := processStartTime(o.PID)
	if err != nil {
		return false
	}
	return start == o.StartTime
}
