package backoff

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestExponentialSequence(t *testing.T) {
	testCases := []struct {
		name string
		b    Exponential
		want []time.Duration
	}{
		{
			name: "doubles up to the cap and stays there",
			b:    Exponential{Initial: time.Second, Max: 10 * time.Second, Factor: 2},
			want: []time.Duration{1, 2, 4, 8, 10, 10, 10},
		},
		{
			name: "zero value uses the defaults",
			b:    Exponential{},
			want: []time.Duration{DefaultInitial / time.Second, 1, 2, 4, 8, 16, 30, 30},
		},
		{
			name: "factor 1 is a constant wait",
			b:    Exponential{Initial: 3 * time.Second, Max: time.Minute, Factor: 1},
			want: []time.Duration{3, 3, 3},
		},
		{
			name: "initial above max is clamped to max",
			b:    Exponential{Initial: time.Minute, Max: 5 * time.Second, Factor: 2},
			want: []time.Duration{5, 5},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			for i, w := range tc.want {
				want := w * time.Second
				if i == 0 && tc.b.Initial == 0 {
					want = DefaultInitial
				}
				g.Expect(tc.b.Next()).To(Equal(want), "wait %d", i)
			}
			g.Expect(tc.b.Failures()).To(Equal(len(tc.want)))
		})
	}
}

func TestExponentialResetStartsOver(t *testing.T) {
	g := NewWithT(t)
	b := Exponential{Initial: time.Second, Max: time.Minute, Factor: 3}
	g.Expect(b.Next()).To(Equal(time.Second))
	g.Expect(b.Next()).To(Equal(3 * time.Second))
	b.Reset()
	g.Expect(b.Failures()).To(Equal(0))
	g.Expect(b.Next()).To(Equal(time.Second))
}

func TestExponentialLongOutageDoesNotOverflow(t *testing.T) {
	g := NewWithT(t)
	b := Exponential{Initial: time.Second, Max: time.Hour, Factor: 10}
	for range 1000 {
		w := b.Next()
		g.Expect(w).To(BeNumerically(">", 0))
		g.Expect(w).To(BeNumerically("<=", time.Hour))
	}
	g.Expect(b.Next()).To(Equal(time.Hour))
}

func TestExponentialJitterStaysInRange(t *testing.T) {
	g := NewWithT(t)
	b := Exponential{Initial: 8 * time.Second, Max: 8 * time.Second, Jitter: 0.25}
	seen := map[time.Duration]bool{}
	for range 200 {
		w := b.Next()
		g.Expect(w).To(BeNumerically(">=", 6*time.Second))
		g.Expect(w).To(BeNumerically("<=", 8*time.Second))
		seen[w] = true
	}
	g.Expect(len(seen)).To(BeNumerically(">", 1), "jitter should vary the waits")
}

func TestExponentialValidate(t *testing.T) {
	testCases := []struct {
		name    string
		b       Exponential
		wantErr string
	}{
		{name: "zero value is valid", b: Exponential{}},
		{name: "negative initial", b: Exponential{Initial: -1}, wantErr: "backoff initial"},
		{name: "negative max", b: Exponential{Max: -1}, wantErr: "backoff max"},
		{name: "initial above max", b: Exponential{Initial: 2 * time.Second, Max: time.Second}, wantErr: "must not exceed backoff max"},
		{name: "factor below one", b: Exponential{Factor: 0.5}, wantErr: "backoff factor"},
		{name: "jitter of one", b: Exponential{Jitter: 1}, wantErr: "backoff jitter"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.b.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
