package agent

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
)

func validOptions() Options {
	o := Options{MemberName: "alpha", HubConfig: &rest.Config{}, MemberConfig: &rest.Config{}}
	o.Default()
	return o
}

func TestOptionsDefault(t *testing.T) {
	g := NewWithT(t)
	o := validOptions()
	g.Expect(o.HubNamespace).To(Equal("berth-member-alpha"))
	g.Expect(o.LeaseDuration).To(Equal(10 * time.Second))
	g.Expect(o.ProbeListen).To(Equal(DefaultProbeListen))
	g.Expect(o.PoolLabels).To(Equal([]string{"node.berth.io/pool", "nodeType"}))
	g.Expect(o.MetricsBindAddress).To(Equal("0"))
	g.Expect(o.AgentVersion).NotTo(BeEmpty())
	g.Expect(o.SystemNamespace).To(Equal("berth-system"))
	g.Expect(o.WorkResync).To(Equal(10 * time.Minute))
	g.Expect(o.Validate()).To(Succeed())
}

func TestOptionsValidate(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "member name required", mutate: func(o *Options) { o.MemberName = "" }, wantErr: "--member-name is required"},
		{name: "member name must be a DNS label", mutate: func(o *Options) { o.MemberName = "Alpha_1" }, wantErr: "--member-name \"Alpha_1\""},
		{name: "hub namespace must be a DNS label", mutate: func(o *Options) { o.HubNamespace = "a/b" }, wantErr: "--hub-namespace"},
		{name: "hub config required", mutate: func(o *Options) { o.HubConfig = nil }, wantErr: "--hub-kubeconfig is required"},
		{name: "member config required", mutate: func(o *Options) { o.MemberConfig = nil }, wantErr: "--kubeconfig"},
		{name: "lease too short", mutate: func(o *Options) { o.LeaseDuration = time.Second }, wantErr: "--lease-duration must be at least 3s"},
		{name: "probe listen needs a port", mutate: func(o *Options) { o.ProbeListen = "0.0.0.0" }, wantErr: "--probe-listen"},
		{name: "probe timeout below interval", mutate: func(o *Options) { o.ProbeInterval, o.ProbeTimeout = time.Second, 2*time.Second }, wantErr: "--probe-timeout 2s must be shorter than --probe-interval 1s"},
		{name: "negative interval", mutate: func(o *Options) { o.StatusInterval = -time.Second }, wantErr: "--status-interval must not be negative"},
		{name: "retry start above max", mutate: func(o *Options) { o.RetryStart, o.RetryMax = time.Minute, time.Second }, wantErr: "--retry-start 1m0s must not exceed --retry-max 1s"},
		{name: "too many pings", mutate: func(o *Options) { o.ProbePings = 1000 }, wantErr: "--probe-pings"},
		{name: "bad pool label", mutate: func(o *Options) { o.PoolLabels = []string{"ok", "not ok"} }, wantErr: "--pool-label[1] \"not ok\""},
		{name: "bad cilium namespace", mutate: func(o *Options) { o.CiliumNamespace = "Kube_System" }, wantErr: "--cilium-namespace"},
		{name: "bad system namespace", mutate: func(o *Options) { o.SystemNamespace = "Berth" }, wantErr: "--system-namespace \"Berth\""},
		{name: "bad node address", mutate: func(o *Options) { o.NodeAddress = "not an address" }, wantErr: "--node-address \"not an address\""},
		{name: "bad exposure CIDR", mutate: func(o *Options) { o.ExposureSourceCIDRs = []string{"10.0.0.0/8", "10.1.0.0"} }, wantErr: "--exposure-source-cidr[1] \"10.1.0.0\""},
		{name: "bad monitoring namespace", mutate: func(o *Options) { o.MonitoringNamespaces = []string{"monitoring", "Prom"} }, wantErr: "--monitoring-namespace[1] \"Prom\""},
		{name: "negative work resync", mutate: func(o *Options) { o.WorkResync = -time.Minute }, wantErr: "--work-resync must not be negative"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			o := validOptions()
			tc.mutate(&o)
			g.Expect(o.Validate()).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestOptionsFlags(t *testing.T) {
	g := NewWithT(t)
	var o Options
	fs := pflag.NewFlagSet("spoke", pflag.ContinueOnError)
	o.AddFlags(fs)
	g.Expect(fs.Parse([]string{
		"--member-name=beta", "--lease-duration=20s", "--probe-listen=:7000", "--probe-advertise=10.0.0.1",
		"--pool-label=a.io/pool,b", "--metrics-bind-address=0",
		"--system-namespace=berth-spoke", "--node-address=192.0.2.7", "--exposure-source-cidr=10.0.0.0/8", "--work-resync=5m",
		"--monitoring-namespace=monitoring", "--monitoring-namespace=observability",
	})).To(Succeed())
	o.HubConfig, o.MemberConfig = &rest.Config{}, &rest.Config{}
	o.Default()
	g.Expect(o.Validate()).To(Succeed())
	g.Expect(o.HubNamespace).To(Equal("berth-member-beta"))
	g.Expect(o.LeaseDuration).To(Equal(20 * time.Second))
	g.Expect(o.ProbeListen).To(Equal(":7000"))
	g.Expect(o.ProbeAdvertise).To(Equal("10.0.0.1"))
	g.Expect(o.PoolLabels).To(Equal([]string{"a.io/pool", "b"}))
	g.Expect(o.HealthProbeBindAddress).To(Equal(":8081"))
	g.Expect(o.StatusInterval).To(Equal(10 * time.Second))
	g.Expect(o.SystemNamespace).To(Equal("berth-spoke"))
	g.Expect(o.NodeAddress).To(Equal("192.0.2.7"))
	g.Expect(o.ExposureSourceCIDRs).To(Equal([]string{"10.0.0.0/8"}))
	g.Expect(o.WorkResync).To(Equal(5 * time.Minute))
	g.Expect(o.MonitoringNamespaces).To(Equal([]string{"monitoring", "observability"}))
}
