package report

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// lat is a peer's figures measured at t0+at.
func lat(peer string, p50, p99 time.Duration, at time.Duration) fleetv1alpha1.PeerLatency {
	return fleetv1alpha1.PeerLatency{
		Peer: peer, P50: metav1.Duration{Duration: p50}, P99: metav1.Duration{Duration: p99},
		Samples: 60, MeasuredAt: metav1.NewTime(t0.Add(at)),
	}
}

func TestLatencyPolicyStable(t *testing.T) {
	ms := time.Millisecond
	us := time.Microsecond
	published := []fleetv1alpha1.PeerLatency{lat("b", 10*ms, 20*ms, 0), lat("c", 300*us, 600*us, 0)}
	testCases := []struct {
		name      string
		policy    LatencyPolicy
		published []fleetv1alpha1.PeerLatency
		next      []fleetv1alpha1.PeerLatency
		now       time.Duration
		keep      bool
	}{
		{
			name:      "nothing published yet",
			published: nil,
			next:      published,
			keep:      false,
		},
		{
			name:      "jitter within 20% keeps the published figures",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 11*ms, 17*ms, time.Minute), lat("c", 390*us, 490*us, time.Minute)},
			now:       time.Minute,
			keep:      true,
		},
		{
			name:      "exactly 20% is not material",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 12*ms, 16*ms, time.Minute), lat("c", 300*us, 600*us, time.Minute)},
			now:       time.Minute,
			keep:      true,
		},
		{
			name:      "a p50 moving by more than 20% is material",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 12*ms+us, 20*ms, time.Minute), lat("c", 300*us, 600*us, time.Minute)},
			now:       time.Minute,
		},
		{
			name:      "a p99 moving by more than 20% is material",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 10*ms, 30*ms, time.Minute), lat("c", 300*us, 600*us, time.Minute)},
			now:       time.Minute,
		},
		{
			name:      "sub-millisecond links: 1ms is the floor, not 20%",
			published: []fleetv1alpha1.PeerLatency{lat("b", 150*us, 300*us, 0)},
			next:      []fleetv1alpha1.PeerLatency{lat("b", 240*us, 390*us, time.Minute)},
			now:       time.Minute,
			keep:      true,
		},
		{
			name:      "sub-millisecond links: a p99 swinging by less than 1ms is noise",
			published: []fleetv1alpha1.PeerLatency{lat("b", 150*us, 300*us, 0)},
			next:      []fleetv1alpha1.PeerLatency{lat("b", 160*us, 1200*us, time.Minute)},
			now:       time.Minute,
			keep:      true,
		},
		{
			name:      "sub-millisecond links: beyond the floor is material",
			published: []fleetv1alpha1.PeerLatency{lat("b", 150*us, 300*us, 0)},
			next:      []fleetv1alpha1.PeerLatency{lat("b", 1151*us, 300*us, time.Minute)},
			now:       time.Minute,
		},
		{
			name:      "a new peer",
			published: published,
			next:      append([]fleetv1alpha1.PeerLatency{lat("a", 10*ms, 20*ms, time.Minute)}, published...),
			now:       time.Minute,
		},
		{
			name:      "a peer that stopped answering",
			published: published,
			next:      published[:1],
			now:       time.Minute,
		},
		{
			name:      "a peer replaced by another",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{published[0], lat("d", 300*us, 600*us, time.Minute)},
			now:       time.Minute,
		},
		{
			name:      "unchanged figures are refreshed after the max age",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 10*ms, 20*ms, 30*time.Minute), lat("c", 300*us, 600*us, 30*time.Minute)},
			now:       30 * time.Minute,
		},
		{
			name:      "just before the max age they are kept",
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 10*ms, 20*ms, 29*time.Minute), lat("c", 300*us, 600*us, 29*time.Minute)},
			now:       30*time.Minute - time.Second,
			keep:      true,
		},
		{
			name:      "a stricter policy",
			policy:    LatencyPolicy{Relative: 0.05, Floor: 10 * us, MaxAge: time.Minute},
			published: published,
			next:      []fleetv1alpha1.PeerLatency{lat("b", 11*ms, 20*ms, 10*time.Second), lat("c", 300*us, 600*us, 10*time.Second)},
			now:       10 * time.Second,
		},
		{
			name:      "order does not matter",
			published: []fleetv1alpha1.PeerLatency{published[1], published[0]},
			next:      published,
			now:       time.Minute,
			keep:      true,
		},
		{
			name: "nothing to say, nothing said",
			keep: true,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := tc.policy.Stable(tc.published, tc.next, t0.Add(tc.now))
			if tc.keep {
				g.Expect(got).To(ConsistOf(tc.published))
				return
			}
			g.Expect(got).To(Equal(sortedByPeer(tc.next)), "the whole new set, sorted by peer")
		})
	}
}

// TestLatencyPolicyQuietOverTime feeds an hour of jittery rounds every 30s
// and counts how often the published figures change.
func TestLatencyPolicyQuietOverTime(t *testing.T) {
	g := NewWithT(t)
	var p LatencyPolicy
	var published []fleetv1alpha1.PeerLatency
	changes := 0
	for i := range 120 {
		at := time.Duration(i) * 30 * time.Second
		// ±7.5% around 2ms and 400µs, ±40µs around 150µs: never more
		// than 20% (or 1ms) away from any earlier round.
		j := float64(i%7-3) / 40
		next := []fleetv1alpha1.PeerLatency{
			lat("b", time.Duration(float64(2*time.Millisecond)*(1+j)), 4*time.Millisecond, at),
			lat("c", time.Duration(float64(400*time.Microsecond)*(1+j)), time.Millisecond, at),
			lat("d", 150*time.Microsecond+time.Duration(i%5-2)*20*time.Microsecond, 300*time.Microsecond, at),
		}
		out := p.Stable(published, next, t0.Add(at))
		if !equalLatencies(out, published) {
			changes++
		}
		published = out
	}
	t.Logf("%d publications in an hour of 120 jittery rounds", changes)
	g.Expect(changes).To(Equal(2), "the first round and one max-age refresh")
}

func equalLatencies(a, b []fleetv1alpha1.PeerLatency) bool {
	return StatusEqual(fleetv1alpha1.MemberClusterStatus{Latencies: a}, fleetv1alpha1.MemberClusterStatus{Latencies: b})
}
