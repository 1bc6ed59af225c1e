package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// Resync rewrites an unchanged status this often.
	Resync time.Duration
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

// SetLatencies records new peer figures.
func (r *Reporter) SetLatencies(l []fleetv1alpha1.PeerLatency) {
	r.init()
	r.mu.Lock()
	r.lat, r.latSet = slices.Clone(l), true
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
// until ctx ends.
func (r *Reporter) Start(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.init()
	log := ctrl.LoggerFrom(ctx).WithValues("memberCluster", r.Member)
	ctx = ctrl.LoggerInto(ctx, log)

	var (
		lastBody    []byte
		lastAttempt time.Time
		joinedSince *metav1.Time
	)
	resync := time.NewTimer(r.Resync)
	defer resync.Stop()
	for {
		forced := false
		select {
		case <-ctx.Done():
			return nil
		case <-r.dirty:
		case <-resync.C:
			forced = true
		}
		if !resync.Stop() {
			select {
			case <-resync.C:
			default:
			}
		}
		resync.Reset(r.Resync)

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
			if joinedSince == nil {
				since, err := r.readExisting(callCtx)
				if err != nil {
					return err
				}
				joinedSince = &since
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
			obj, err := ApplyObject(r.Member, state)
			if err != nil {
				return err
			}
			body, err := json.Marshal(obj.Object)
			if err != nil {
				return fmt.Errorf("encoding the status: %w", err)
			}
			if !forced && slices.Equal(body, lastBody) {
				return nil
			}
			err = r.Client.Status().Apply(callCtx, client.ApplyConfigurationFromUnstructured(obj),
				client.FieldOwner(FieldManager), client.ForceOwnership)
			if err != nil {
				return fmt.Errorf("applying the status of MemberCluster %s: %w", r.Member, err)
			}
			lastBody = body
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

// readExisting reads the MemberCluster once: it returns the Joined
// condition's lastTransitionTime to keep (now if the spoke was not joined)
// and seeds the latencies when the prober has not published yet.
func (r *Reporter) readExisting(ctx context.Context) (metav1.Time, error) {
	mc := &fleetv1alpha1.MemberCluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: r.Member}, mc); err != nil {
		return metav1.Time{}, fmt.Errorf("reading MemberCluster %s: %w", r.Member, err)
	}
	r.mu.Lock()
	if !r.latSet {
		r.lat = mc.Status.Latencies
	}
	r.mu.Unlock()
	if c := meta.FindStatusCondition(mc.Status.Conditions, fleetv1alpha1.ConditionJoined); c != nil && c.Status == metav1.ConditionTrue {
		return c.LastTransitionTime, nil
	}
	return metav1.NewTime(time.Now().Truncate(time.Second)), nil
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
