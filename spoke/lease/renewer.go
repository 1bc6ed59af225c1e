package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/spoke/backoff"
)

// Name is the name of the spoke's Lease in its hub namespace.
const Name = "spoke"

// DefaultDuration is the default leaseDurationSeconds.
const DefaultDuration = 10 * time.Second

// Renewer renews the spoke's Lease. It implements manager.Runnable.
type Renewer struct {
	// Client reaches the hub. Reads must not go through a cache: the spoke
	// may not list or watch leases.
	Client client.Client
	// Namespace is the member's hub namespace.
	Namespace string
	// Holder is the member's name, written to holderIdentity.
	Holder string
	// Duration is leaseDurationSeconds; it is rounded up to whole seconds.
	Duration time.Duration
	// Backoff paces retries after a failed renewal.
	Backoff backoff.Exponential
	// OnRenew, if set, is called after every successful renewal.
	OnRenew func(time.Time)

	mu        sync.Mutex
	lease     *coordinationv1.Lease
	lastRenew time.Time
}

// Validate reports the first invalid field.
func (r *Renewer) Validate() error {
	switch {
	case r.Client == nil:
		return errors.New("lease renewer needs a hub client")
	case r.Namespace == "":
		return errors.New("lease renewer needs the hub namespace")
	case r.Holder == "":
		return errors.New("lease renewer needs the member name as holder")
	case r.Duration < time.Second:
		return fmt.Errorf("lease duration must be at least 1s, got %s", r.Duration)
	}
	return r.Backoff.Validate()
}

// Interval is the time between two successful renewals: a third of the
// duration.
func Interval(duration time.Duration) time.Duration {
	return duration / 3
}

// LastRenew is when the Lease was last renewed; zero before the first time.
func (r *Renewer) LastRenew() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastRenew
}

// Start renews until ctx ends.
func (r *Renewer) Start(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	log := ctrl.LoggerFrom(ctx).WithValues("lease", r.Namespace+"/"+Name)
	ctx = ctrl.LoggerInto(ctx, log)
	healthy := true
	for {
		wait := Interval(r.Duration)
		if err := r.Renew(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			wait = r.Backoff.Next()
			// Log the first failure and then every tenth, so a long hub
			// outage does not flood the log.
			if f := r.Backoff.Failures(); f == 1 || f%10 == 0 {
				log.Error(err, "Cannot renew the Lease, will retry", "failures", f, "retryIn", wait.String())
			}
			healthy = false
		} else {
			if !healthy {
				log.Info("Lease renewed again after failures", "failures", r.Backoff.Failures())
			}
			healthy = true
			r.Backoff.Reset()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Renew sets renewTime to now, creating the Lease if it does not exist.
func (r *Renewer) Renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.Duration)
	defer cancel()
	err := r.renew(ctx)
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		// Someone else wrote the Lease, or it was deleted: read it again
		// and retry once at once.
		r.lease = nil
		err = r.renew(ctx)
	}
	if err != nil {
		r.lease = nil
		return err
	}
	return nil
}

func (r *Renewer) renew(ctx context.Context) error {
	now := metav1.NowMicro()
	if r.lease == nil {
		l := &coordinationv1.Lease{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: Name}, l)
		switch {
		case apierrors.IsNotFound(err):
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: Name}}
			r.fill(l, now)
			l.Spec.AcquireTime = &now
			if err := r.Client.Create(ctx, l); err != nil {
				return fmt.Errorf("creating Lease %s/%s: %w", r.Namespace, Name, err)
			}
			r.renewed(l, now)
			ctrl.LoggerFrom(ctx).Info("Created the Lease")
			return nil
		case err != nil:
			return fmt.Errorf("reading Lease %s/%s: %w", r.Namespace, Name, err)
		}
		r.lease = l
	}
	l := r.lease.DeepCopy()
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != r.Holder {
		l.Spec.AcquireTime = &now
	}
	r.fill(l, now)
	if err := r.Client.Update(ctx, l); err != nil {
		return fmt.Errorf("renewing Lease %s/%s: %w", r.Namespace, Name, err)
	}
	r.renewed(l, now)
	return nil
}

func (r *Renewer) fill(l *coordinationv1.Lease, now metav1.MicroTime) {
	l.Spec.HolderIdentity = ptr.To(r.Holder)
	l.Spec.LeaseDurationSeconds = ptr.To(int32((r.Duration + time.Second - 1) / time.Second))
	l.Spec.RenewTime = &now
}

func (r *Renewer) renewed(l *coordinationv1.Lease, now metav1.MicroTime) {
	r.lease = l
	r.mu.Lock()
	r.lastRenew = now.Time
	r.mu.Unlock()
	if r.OnRenew != nil {
		r.OnRenew(now.Time)
	}
}
