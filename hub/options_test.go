package hub

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
)

func TestOptionsFlags(t *testing.T) {
	g := NewWithT(t)
	o := NewOptions()
	fs := pflag.NewFlagSet("hub", pflag.ContinueOnError)
	o.AddFlags(fs)
	g.Expect(fs.Parse([]string{
		"--hub-server=https://hub.example:6443", "--spoke-image=registry.example/berth-spoke:v1",
		"--spoke-token-expiration=30m", "--lease-grace-factor=2", "--leader-elect",
		"--spoke-exposure-source-cidr=10.0.0.0/8,192.168.1.0/24",
	})).To(Succeed())
	g.Expect(o.SpokeExposureSourceCIDRs).To(Equal([]string{"10.0.0.0/8", "192.168.1.0/24"}))
	g.Expect(o.HubServer).To(Equal("https://hub.example:6443"))
	g.Expect(o.SpokeImage).To(Equal("registry.example/berth-spoke:v1"))
	g.Expect(o.SpokeTokenExpiration).To(Equal(30 * time.Minute))
	g.Expect(o.LeaseGraceFactor).To(Equal(2.0))
	g.Expect(o.LeaderElect).To(BeTrue())
	g.Expect(o.Validate()).To(Succeed())
}

func TestOptionsValidate(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "short token", mutate: func(o *Options) { o.SpokeTokenExpiration = time.Minute }, wantErr: "--spoke-token-expiration"},
		{name: "small grace", mutate: func(o *Options) { o.LeaseGraceFactor = 0.5 }, wantErr: "--lease-grace-factor"},
		{name: "bad exposure CIDR", mutate: func(o *Options) { o.SpokeExposureSourceCIDRs = []string{"10.0.0.0/8", "10.1.2.3"} }, wantErr: `--spoke-exposure-source-cidr: "10.1.2.3" is not a CIDR`},
		{name: "missing CA file", mutate: func(o *Options) { o.HubCAFile = "/does/not/exist" }, wantErr: "--hub-ca-file"},
		{name: "leader election without namespace", mutate: func(o *Options) { o.LeaderElect = true; o.LeaderElectionNamespace = "" }, wantErr: "--leader-election-namespace"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			o := NewOptions()
			tc.mutate(&o)
			err := o.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
