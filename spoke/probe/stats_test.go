package probe

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted on purpose
	}
	testCases := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{name: "no samples", samples: nil, p: 0.5, want: 0},
		{name: "one sample is every percentile", samples: ms(7), p: 0.99, want: 7 * time.Millisecond},
		{name: "median of odd count", samples: ms(5, 1, 3), p: 0.5, want: 3 * time.Millisecond},
		{name: "median of even count is the lower middle", samples: ms(4, 1, 3, 2), p: 0.5, want: 2 * time.Millisecond},
		{name: "p99 of 100 is the 99th", samples: ms(hundred...), p: 0.99, want: 99 * time.Millisecond},
		{name: "p50 of 100 is the 50th", samples: ms(hundred...), p: 0.50, want: 50 * time.Millisecond},
		{name: "p99 of 10 is the maximum", samples: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 50), p: 0.99, want: 50 * time.Millisecond},
		{name: "p90 of 10 is the 9th", samples: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 50), p: 0.90, want: 9 * time.Millisecond},
		{name: "p at or below 0 is the minimum", samples: ms(3, 2, 9), p: 0, want: 2 * time.Millisecond},
		{name: "p at or above 1 is the maximum", samples: ms(3, 2, 9), p: 1.5, want: 9 * time.Millisecond},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := append([]time.Duration(nil), tc.samples...)
			g.Expect(Percentile(tc.samples, tc.p)).To(Equal(tc.want))
			g.Expect(tc.samples).To(Equal(in), "Percentile must not reorder its input")
		})
	}
}

func TestWindow(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &window{}
	for i := range 10 {
		w.add(sample{at: t0.Add(time.Duration(i) * time.Second), rtt: time.Duration(i+1) * time.Millisecond}, 4)
	}
	g.Expect(w.samples).To(HaveLen(4), "the window keeps the newest samples only")
	g.Expect(w.samples[0].rtt).To(Equal(7 * time.Millisecond))

	l, ok := w.latency("b")
	g.Expect(ok).To(BeTrue())
	g.Expect(l.Peer).To(Equal("b"))
	g.Expect(l.Samples).To(Equal(int32(4)))
	g.Expect(l.P50.Duration).To(Equal(8 * time.Millisecond))
	g.Expect(l.P99.Duration).To(Equal(10 * time.Millisecond))
	g.Expect(l.MeasuredAt.Time).To(Equal(t0.Add(9 * time.Second)))

	w.expire(t0.Add(8 * time.Second))
	g.Expect(w.samples).To(HaveLen(2))
	w.expire(t0.Add(time.Hour))
	_, ok = w.latency("b")
	g.Expect(ok).To(BeFalse(), "an expired window reports nothing")
}

func TestRoundRTT(t *testing.T) {
	g := NewWithT(t)
	g.Expect(roundRTT(1234567 * time.Nanosecond)).To(Equal(1235 * time.Microsecond))
	g.Expect(roundRTT(200*time.Nanosecond)).To(Equal(time.Microsecond), "a measured RTT never rounds to zero")
	g.Expect(roundRTT(0)).To(Equal(time.Duration(0)))
}

func TestStabilize(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	lat := func(peer string, p50, p99 int, age time.Duration) fleetv1alpha1.PeerLatency {
		return fleetv1alpha1.PeerLatency{
			Peer:       peer,
			P50:        metav1.Duration{Duration: time.Duration(p50) * time.Millisecond},
			P99:        metav1.Duration{Duration: time.Duration(p99) * time.Millisecond},
			Samples:    10,
			MeasuredAt: metav1.NewTime(now.Add(-age)),
		}
	}
	testCases := []struct {
		name string
		prev []fleetv1alpha1.PeerLatency
		next []fleetv1alpha1.PeerLatency
		want []fleetv1alpha1.PeerLatency
	}{
		{
			name: "first figures are published",
			next: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, 0)},
		},
		{
			name: "a small change keeps the published figures",
			prev: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, time.Minute)},
			next: []fleetv1alpha1.PeerLatency{lat("b", 10, 21, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, time.Minute)},
		},
		{
			name: "a p50 change beyond the threshold replaces them",
			prev: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, time.Minute)},
			next: []fleetv1alpha1.PeerLatency{lat("b", 12, 20, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("b", 12, 20, 0)},
		},
		{
			name: "a p99 change beyond the threshold replaces them",
			prev: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, time.Minute)},
			next: []fleetv1alpha1.PeerLatency{lat("b", 10, 15, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("b", 10, 15, 0)},
		},
		{
			name: "old figures are refreshed even when unchanged",
			prev: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, 10*time.Minute)},
			next: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("b", 10, 20, 0)},
		},
		{
			name: "peers gone from next are dropped, new ones added, output sorted",
			prev: []fleetv1alpha1.PeerLatency{lat("a", 1, 2, 0), lat("c", 1, 2, 0)},
			next: []fleetv1alpha1.PeerLatency{lat("d", 3, 4, 0), lat("c", 1, 2, 0)},
			want: []fleetv1alpha1.PeerLatency{lat("c", 1, 2, 0), lat("d", 3, 4, 0)},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(Stabilize(tc.prev, tc.next, 0.1, 5*time.Minute, now)).To(Equal(tc.want))
		})
	}
}
