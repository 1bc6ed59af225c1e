package report

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/backoff"
	"github.com/berth-io/berth/spoke/inventory"
)

// Reporter defaults.
const (
	DefaultMinInterval = 10 * time.Second
	DefaultResync      = 5 * time.Minute
	DefaultTimeout     = 10 * time.Second
)

// Reporter writes the spoke's part of the MemberCluster status. It
// implements manager.Runnable. Zero durations take the defaults above.
type Reporter struct {
	// Client reaches the hub; it must read MemberClusters directly (the
	// spoke may only get its own, not list or watch).
	Client client.Client
	// Member is the MemberCluster's name.
	Member string
	// AgentVersion and ProbeEndpoint are reported as they are.
	AgentVersion  string
	ProbeEndpoint string
	// MinInterval is the least time between two writes.
	MinInterval time.Duration
	// Resync reads the MemberCluster this often and rewrites the spoke's
	// fields only if they differ from what the spoke would send (someone
	// wiped or changed them).
	Resync time.Duration
	// Latency decides when new peer figures are worth a write.
	Latency LatencyPolicy
	// Timeout bounds every call to the hub.
	Timeout time.Duration
	// Backoff paces retries after a failed write.
	Backoff backoff.Exponential
	// OnWrite, if set, is called after every write the hub accepted.
	OnWrite func()

	mu          sync.Mutex
	inv         *inventory.Snapshot
	lat         []fleetv1alpha1.PeerLatency
	latSet      bool
	dirty       chan struct{}
	lastApplied time.Time
	writes      int
}

func (r *Reporter) init() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirty == nil {
		r.dirty = make(chan struct{}, 1)
	}
	if r.MinInterval <= 0 {
		r.MinInterval = DefaultMinInterval
	}
	if r.Resync <= 0 {
		r.Resync = DefaultResync
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
}

// Validate reports the first invalid field.
func (r *Reporter) Validate() error {
	switch {
	case r.Client == nil:
		return errors.New("reporter needs a hub client")
	case r.Member == "":
		return errors.New("reporter needs the member name")
	case r.Latency.Relative < 0:
		return fmt.Errorf("latency.relative %v must not be negative", r.Latency.Relative)
	case r.Latency.Floor < 0:
		return fmt.Errorf("latency.floor %s must not be negative", r.Latency.Floor)
	case r.Latency.MaxAge < 0:
		return fmt.Errorf("latency.maxAge %s must not be negative", r.Latency.MaxAge)
	}
	return r.Backoff.Validate()
}

// SetInventory records a new inventory snapshot.
func (r *Reporter) SetInventory(s inventory.Snapshot) {
	r.init()
	r.mu.Lock()
	r.inv = &s
	r.mu.Unlock()
	r.markDirty()
}

// SetLatencies records new peer figures. They replace the reported ones
// only when Latency.Stable says they moved materially or aged out.
func (r *Reporter) SetLatencies(l []fleetv1alpha1.PeerLatency) {
	r.init()
	r.mu.Lock()
	r.lat, r.latSet = r.Latency.Stable(r.lat, l, time.Now()), true
	r.mu.Unlock()
	r.markDirty()
}

// LastApplied is when the hub last accepted a status write; zero before.
func (r *Reporter) LastApplied() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastApplied
}

// Writes is the number of status writes the hub accepted.
func (r *Reporter) Writes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

func (r *Reporter) markDirty() {
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// Start writes the status whenever it changed, at most once per MinInterval,
// until ctx ends. Every write is compared first: against what the hub
// accepted last, or, after a start, a failure or a Resync, against the
// MemberCluster read from the hub.
func (r *Reporter) Start(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.init()
	log := ctrl.LoggerFrom(ctx).WithValues("memberCluster", r.Member)
	ctx = ctrl.LoggerInto(ctx, log)

	var (
		// known is the spoke's part of the status as the hub holds it; nil
		// when unknown, and then read from the hub before writing.
		known       *fleetv1alpha1.MemberClusterStatus
		lastAttempt time.Time
		joinedSince *metav1.Time
	)
	resync := time.NewTimer(r.Resync)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.dirty:
		case <-resync.C:
			// Someone may have changed or wiped the spoke's fields: read
			// them again instead of trusting the last write. The timer
			// runs on its own, so a busy member (dirty every few seconds)
			// still checks every Resync.
			known = nil
			resync.Reset(r.Resync)
		}

		if wait := r.MinInterval - time.Since(lastAttempt); wait > 0 {
			if !sleep(ctx, wait) {
				return nil
			}
		}
		// Whatever changed during the wait is in this write.
		select {
		case <-r.dirty:
		default:
		}

		r.mu.Lock()
		inv := r.inv
		r.mu.Unlock()
		if inv == nil {
			// Nothing to say before the first inventory.
			continue
		}

		lastAttempt = time.Now()
		err := func() error {
			callCtx, cancel := context.WithTimeout(ctx, r.Timeout)
			defer cancel()
			if known == nil {
				live, err := r.readLive(callCtx)
				if err != nil {
					return err
				}
				if joinedSince == nil {
					since := r.adopt(live)
					joinedSince = &since
				}
				owned := OwnedStatus(live.Status)
				known = &owned
			}
			r.mu.Lock()
			state := State{
				AgentVersion:  r.AgentVersion,
				ProbeEndpoint: r.ProbeEndpoint,
				Inventory:     *r.inv,
				Latencies:     r.lat,
				JoinedSince:   *joinedSince,
			}
			r.mu.Unlock()
			desired := DesiredStatus(state)
			if StatusEqual(*known, desired) {
				return nil
			}
			obj, err := ApplyObject(r.Member, state)
			if err != nil {
				return err
			}
			err = r.Client.Status().Apply(callCtx, client.ApplyConfigurationFromUnstructured(obj),
				client.FieldOwner(FieldManager), client.ForceOwnership)
			if err != nil {
				// The write may or may not have landed: read the hub's
				// copy before the next one.
				known = nil
				return fmt.Errorf("applying the status of MemberCluster %s: %w", r.Member, err)
			}
			owned := OwnedStatus(desired)
			known = &owned
			r.mu.Lock()
			r.lastApplied = time.Now()
			r.writes++
			r.mu.Unlock()
			if r.OnWrite != nil {
				r.OnWrite()
			}
			log.V(1).Info("Reported status", "pools", len(state.Inventory.NodePools), "peers", len(state.Latencies))
			return nil
		}()
		if err == nil {
			if r.Backoff.Failures() > 0 {
				log.Info("Reporting to the hub again after failures", "failures", r.Backoff.Failures())
			}
			r.Backoff.Reset()
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if apierrors.IsNotFound(err) {
			// The MemberCluster is gone or not there yet: read it afresh
			// next time, and never create it.
			joinedSince = nil
		}
		wait := r.Backoff.Next()
		if f := r.Backoff.Failures(); f == 1 || f%10 == 0 {
			log.Error(err, "Cannot report to the hub, will retry", "failures", f, "retryIn", wait.String())
		}
		if !sleep(ctx, wait) {
			return nil
		}
		r.markDirty()
	}
}

// readLive reads the MemberCluster from the hub.
func (r *Reporter) readLive(ctx context.Context) (*fleetv1alpha1.MemberCluster, error) {
	mc := &fleetv1alpha1.MemberCluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: r.Member}, mc); err != nil {
		return nil, fmt.Errorf("reading MemberCluster %s: %w", r.Member, err)
	}
	return mc, nil
}

// adopt takes over what a previous spoke reported, once per start: it
// returns the Joined condition's lastTransitionTime to keep (now if the
// spoke was not joined), and takes the reported latencies as the published
// ones: kept until the prober's figures move materially, so a restart with
// unchanged figures writes nothing.
func (r *Reporter) adopt(mc *fleetv1alpha1.MemberCluster) metav1.Time {
	r.mu.Lock()
	if r.latSet {
		r.lat = r.Latency.Stable(mc.Status.Latencies, r.lat, time.Now())
	} else {
		r.lat = mc.Status.Latencies
	}
	r.mu.Unlock()
	if c := meta.FindStatusCondition(mc.Status.Conditions, fleetv1alpha1.ConditionJoined); c != nil && c.Status == metav1.ConditionTrue {
		return c.LastTransitionTime
	}
	return metav1.NewTime(time.Now().Truncate(time.Second))
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
