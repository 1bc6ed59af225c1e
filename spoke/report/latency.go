package report

import (
	"slices"
	"strings"
	"time"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Latency policy defaults; see doc.go, "Latencies".
const (
	// DefaultLatencyRelative is the relative move of a p50 or p99 that is
	// worth a status write.
	DefaultLatencyRelative = 0.2
	// DefaultLatencyFloor is the least absolute move of a p50 worth a
	// write: below it, round trips inside one data centre are scheduling
	// noise (seen on the local fleet: loopback p50s swing by more than
	// 100µs with the machine's load alone), and placement's latency limits
	// are milliseconds.
	DefaultLatencyFloor = time.Millisecond
	// DefaultLatencyTailFloor is the least absolute move of a p99 worth a
	// write. The tail of a small probe sample swings by hundreds of
	// microseconds with the load of the machine alone (seen on the local
	// fleet: every spoke rewrote its status every few seconds at rest with
	// the p50 floor), while placement's latency limits are milliseconds.
	DefaultLatencyTailFloor = time.Millisecond
	// DefaultLatencyMaxAge is the age after which published figures are
	// replaced by the current ones even when they did not move.
	DefaultLatencyMaxAge = 30 * time.Minute
)

// LatencyPolicy decides when new peer figures replace the published ones.
// Zero fields take the defaults above.
type LatencyPolicy struct {
	// Relative move of a peer's p50 or p99, as a fraction of the published
	// value, that is material.
	Relative float64
	// Floor is the least absolute move of a p50 that is material.
	Floor time.Duration
	// TailFloor is the least absolute move of a p99 that is material.
	TailFloor time.Duration
	// MaxAge replaces published figures older than this (by their oldest
	// MeasuredAt) with the current ones.
	MaxAge time.Duration
}

func (p LatencyPolicy) withDefaults() LatencyPolicy {
	if p.Relative <= 0 {
		p.Relative = DefaultLatencyRelative
	}
	if p.Floor <= 0 {
		p.Floor = DefaultLatencyFloor
	}
	if p.TailFloor <= 0 {
		p.TailFloor = DefaultLatencyTailFloor
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultLatencyMaxAge
	}
	return p
}

// Stable returns the figures to publish given the published ones and the
// prober's latest: next (sorted by peer) when the set of peers changed, when
// any peer's p50 or p99 moved by more than max(Relative x published value,
// Floor), or when the oldest published figure is MaxAge old; otherwise
// published, untouched. The whole set is replaced at once, so a stable
// member refreshes its figures in one write per MaxAge, not one per peer.
func (p LatencyPolicy) Stable(published, next []fleetv1alpha1.PeerLatency, now time.Time) []fleetv1alpha1.PeerLatency {
	p = p.withDefaults()
	next = sortedByPeer(next)
	if len(published) != len(next) {
		return next
	}
	published = sortedByPeer(published)
	for i := range next {
		old, cur := published[i], next[i]
		if old.Peer != cur.Peer ||
			p.moved(old.P50.Duration, cur.P50.Duration, p.Floor) || p.moved(old.P99.Duration, cur.P99.Duration, p.TailFloor) ||
			now.Sub(old.MeasuredAt.Time) >= p.MaxAge {
			return next
		}
	}
	return published
}

// moved reports whether b differs from a by more than max(Relative x a,
// floor).
func (p LatencyPolicy) moved(a, b, floor time.Duration) bool {
	diff := b - a
	if diff < 0 {
		diff = -diff
	}
	limit := time.Duration(p.Relative * float64(a))
	if limit < floor {
		limit = floor
	}
	return diff > limit
}

func sortedByPeer(l []fleetv1alpha1.PeerLatency) []fleetv1alpha1.PeerLatency {
	out := slices.Clone(l)
	slices.SortFunc(out, func(a, b fleetv1alpha1.PeerLatency) int { return strings.Compare(a.Peer, b.Peer) })
	return out
}
