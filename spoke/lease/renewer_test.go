package lease

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/berth-io/berth/spoke/backoff"
)

func TestInterval(t *testing.T) {
	g := NewWithT(t)
	g.Expect(Interval(10 * time.Second)).To(Equal(10 * time.Second / 3))
	g.Expect(Interval(3 * time.Second)).To(Equal(time.Second))
}

func TestRenewerValidate(t *testing.T) {
	valid := func() *Renewer {
		return &Renewer{Client: fake.NewClientBuilder().Build(), Namespace: "berth-member-a", Holder: "a", Duration: 10 * time.Second}
	}
	testCases := []struct {
		name    string
		mutate  func(*Renewer)
		wantErr string
	}{
		{name: "valid", mutate: func(*Renewer) {}},
		{name: "no client", mutate: func(r *Renewer) { r.Client = nil }, wantErr: "hub client"},
		{name: "no namespace", mutate: func(r *Renewer) { r.Namespace = "" }, wantErr: "hub namespace"},
		{name: "no holder", mutate: func(r *Renewer) { r.Holder = "" }, wantErr: "member name"},
		{name: "sub-second duration", mutate: func(r *Renewer) { r.Duration = 500 * time.Millisecond }, wantErr: "lease duration must be at least 1s"},
		{name: "bad backoff", mutate: func(r *Renewer) { r.Backoff = backoff.Exponential{Jitter: 2} }, wantErr: "backoff jitter"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r := valid()
			tc.mutate(r)
			err := r.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
