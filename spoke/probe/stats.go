package probe

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Percentile returns the p-th percentile (0 < p <= 1) of samples by the
// nearest-rank method: the smallest sample such that at least p of all
// samples are <= it. It returns 0 for no samples. samples is not modified.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return percentileSorted(sorted, p)
}

func percentileSorted(sorted []time.Duration, p float64) time.Duration {
	switch {
	case p <= 0:
		return sorted[0]
	case p >= 1:
		return sorted[len(sorted)-1]
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// sample is one measured round trip.
type sample struct {
	at  time.Time
	rtt time.Duration
}

// window holds the most recent samples of one peer, oldest first.
type window struct {
	samples []sample
}

// add appends s and drops the oldest samples beyond size.
func (w *window) add(s sample, size int) {
	w.samples = append(w.samples, s)
	if over := len(w.samples) - size; over > 0 {
		w.samples = slices.Delete(w.samples, 0, over)
	}
}

// expire drops samples taken before cutoff.
func (w *window) expire(cutoff time.Time) {
	i := sort.Search(len(w.samples), func(i int) bool { return !w.samples[i].at.Before(cutoff) })
	w.samples = slices.Delete(w.samples, 0, i)
}

// latency summarises the window; ok is false when it is empty.
func (w *window) latency(peer string) (fleetv1alpha1.PeerLatency, bool) {
	if len(w.samples) == 0 {
		return fleetv1alpha1.PeerLatency{}, false
	}
	rtts := make([]time.Duration, len(w.samples))
	for i, s := range w.samples {
		rtts[i] = s.rtt
	}
	slices.Sort(rtts)
	return fleetv1alpha1.PeerLatency{
		Peer:       peer,
		P50:        metav1.Duration{Duration: roundRTT(percentileSorted(rtts, 0.50))},
		P99:        metav1.Duration{Duration: roundRTT(percentileSorted(rtts, 0.99))},
		Samples:    int32(len(rtts)),
		MeasuredAt: metav1.NewTime(w.samples[len(w.samples)-1].at.Truncate(time.Second)),
	}, true
}

// roundRTT keeps microsecond precision: finer digits are noise, and they
// would make every status write differ.
func roundRTT(d time.Duration) time.Duration {
	r := d.Round(time.Microsecond)
	if r == 0 && d > 0 {
		return time.Microsecond
	}
	return r
}

// Stabilize returns next, except that a peer's entry from prev is kept when
// its p50 and p99 both differ from next's by at most threshold (a fraction of
// prev's value) and prev's figures were measured less than refresh before
// now. The result is sorted by peer. Peers missing from next are dropped.
func Stabilize(prev, next []fleetv1alpha1.PeerLatency, threshold float64, refresh time.Duration, now time.Time) []fleetv1alpha1.PeerLatency {
	old := make(map[string]fleetv1alpha1.PeerLatency, len(prev))
	for _, p := range prev {
		old[p.Peer] = p
	}
	out := make([]fleetv1alpha1.PeerLatency, 0, len(next))
	for _, n := range next {
		if p, ok := old[n.Peer]; ok &&
			now.Sub(p.MeasuredAt.Time) < refresh &&
			within(p.P50.Duration, n.P50.Duration, threshold) &&
			within(p.P99.Duration, n.P99.Duration, threshold) {
			out = append(out, p)
			continue
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b fleetv1alpha1.PeerLatency) int { return strings.Compare(a.Peer, b.Peer) })
	return out
}

// within reports whether b is within threshold*a of a.
func within(a, b time.Duration, threshold float64) bool {
	diff := math.Abs(float64(b - a))
	return diff <= threshold*float64(a)
}
