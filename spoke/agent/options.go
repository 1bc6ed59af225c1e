package agent

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/berth-io/berth/spoke/inventory"
	"github.com/berth-io/berth/spoke/lease"
	"github.com/berth-io/berth/spoke/probe"
	"github.com/berth-io/berth/spoke/report"
	"github.com/berth-io/berth/spoke/work"
)

// Version is the spoke's version, set at build time with
// -ldflags "-X github.com/berth-io/berth/spoke/agent.Version=v1.2.3".
var Version = ""

// BuildVersion is Version, else the module version from the build info,
// else "dev".
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// HubNamespacePrefix prefixes a member's name to form its hub namespace.
const HubNamespacePrefix = "berth-member-"

// PeersConfigMap is the ConfigMap the hub writes into every member namespace:
// data maps each other member's name to its probe host:port.
const PeersConfigMap = "peers"

// Defaults of Options.
const (
	DefaultProbeListen = ":9473"
	DefaultRetryMax    = 30 * time.Second
	DefaultRetryStart  = 500 * time.Millisecond
)

// Options configure an Agent. Zero values take the defaults; see AddFlags
// for what each means.
type Options struct {
	// MemberName is the MemberCluster's name. Required.
	MemberName string
	// HubNamespace defaults to berth-member-<MemberName>.
	HubNamespace string
	// HubConfig reaches the hub as the member's spoke identity. Required;
	// LoadHubConfig builds it from the hub-kubeconfig file.
	HubConfig *rest.Config
	// MemberConfig reaches the member cluster. Required; LoadMemberConfig
	// builds it.
	MemberConfig *rest.Config

	// LeaseDuration is the Lease's leaseDurationSeconds.
	LeaseDuration time.Duration

	// ProbeListen is the probe server's listen address.
	ProbeListen string
	// ProbeAdvertise is the host, or host:port, peers dial.
	ProbeAdvertise string
	// PodIP is the advertised host when neither ProbeAdvertise nor
	// ProbeListen names one (from the POD_IP environment variable).
	PodIP string
	// ProbeInterval, ProbeTimeout, ProbePings and ProbeMaxPeers configure
	// the prober (package probe).
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	ProbePings    int
	ProbeMaxPeers int

	// PoolLabels name a node's pool, in order.
	PoolLabels []string
	// CiliumNamespace holds Cilium's Secret and ConfigMap.
	CiliumNamespace string
	// InventoryInterval is the least time between two inventory
	// recomputations.
	InventoryInterval time.Duration

	// StatusInterval is the least time between two status writes.
	StatusInterval time.Duration
	// StatusResync rewrites an unchanged status this often.
	StatusResync time.Duration

	// RetryStart and RetryMax bound the exponential backoff of calls to
	// the hub.
	RetryStart time.Duration
	RetryMax   time.Duration

	// MetricsBindAddress serves Prometheus metrics; "0" disables.
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" or empty
	// disables.
	HealthProbeBindAddress string

	// AgentVersion is reported in status.agentVersion; default
	// BuildVersion().
	AgentVersion string

	// SystemNamespace is the spoke's namespace in the member cluster, where
	// it keeps the record of what it applied for each ServiceWork; created
	// when missing. Default work.DefaultSystemNamespace.
	SystemNamespace string
	// NodeAddress is reported as the endpoint host of NodePort exposures;
	// empty uses the first node's address.
	NodeAddress string
	// ExposureSourceCIDRs may reach a remote exposure (LoadBalancer or
	// NodePort); empty allows every source.
	ExposureSourceCIDRs []string
	// MonitoringNamespaces may scrape the engines' metrics ports through
	// the guard rails.
	MonitoringNamespaces []string
	// WorkResync is the mean time between two reconciles of an unchanged
	// ServiceWork (jittered by ±20%). Default work.DefaultResync.
	WorkResync time.Duration
}

// AddFlags registers the tunables of o on fs, with their defaults. The
// kubeconfig paths are the caller's: they become HubConfig and MemberConfig.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.MemberName, "member-name", o.MemberName, "Name of this cluster's MemberCluster on the hub (required).")
	fs.StringVar(&o.HubNamespace, "hub-namespace", o.HubNamespace, "The member's namespace on the hub (default berth-member-<member-name>).")
	fs.DurationVar(&o.LeaseDuration, "lease-duration", lease.DefaultDuration, "leaseDurationSeconds of the heartbeat Lease; it is renewed every third of it.")
	fs.StringVar(&o.ProbeListen, "probe-listen", DefaultProbeListen, "Listen address of the TCP latency probe server.")
	fs.StringVar(&o.ProbeAdvertise, "probe-advertise", o.ProbeAdvertise, "host or host:port peers dial to probe this spoke (default: the listen host if specific, else $POD_IP, with the listen port).")
	fs.DurationVar(&o.ProbeInterval, "probe-interval", probe.DefaultInterval, "Time between two latency probe rounds.")
	fs.DurationVar(&o.ProbeTimeout, "probe-timeout", probe.DefaultTimeout, "Upper bound of one probe exchange with one peer, dial included.")
	fs.IntVar(&o.ProbePings, "probe-pings", probe.DefaultPingsPerPeer, "Pings sent to a peer per round.")
	fs.IntVar(&o.ProbeMaxPeers, "probe-max-peers", probe.DefaultMaxPeersPerRound, "Peers probed per round at most; the others are probed in later rounds.")
	fs.StringSliceVar(&o.PoolLabels, "pool-label", inventory.DefaultPoolLabels, "Node labels naming a node's pool, first match wins; nodes with none are in pool \"default\".")
	fs.StringVar(&o.CiliumNamespace, "cilium-namespace", inventory.DefaultCiliumNamespace, "Namespace of the cilium-clustermesh Secret and cilium-config ConfigMap.")
	fs.DurationVar(&o.InventoryInterval, "inventory-interval", inventory.DefaultMinInterval, "Least time between two inventory recomputations.")
	fs.DurationVar(&o.StatusInterval, "status-interval", report.DefaultMinInterval, "Least time between two MemberCluster status writes.")
	fs.DurationVar(&o.StatusResync, "status-resync", report.DefaultResync, "Rewrite an unchanged MemberCluster status this often.")
	fs.DurationVar(&o.RetryStart, "retry-start", DefaultRetryStart, "First wait after a failed call to the hub.")
	fs.DurationVar(&o.RetryMax, "retry-max", DefaultRetryMax, "Longest wait between retries of calls to the hub.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; \"0\" disables it.")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz; \"0\" disables it.")
	fs.StringVar(&o.SystemNamespace, "system-namespace", work.DefaultSystemNamespace, "The spoke's namespace in this member cluster, holding the record of what it applied for each ServiceWork; created when missing.")
	fs.StringVar(&o.NodeAddress, "node-address", o.NodeAddress, "Node address reported as the endpoint host of NodePort exposures (default: the first node's address).")
	fs.StringSliceVar(&o.ExposureSourceCIDRs, "exposure-source-cidr", o.ExposureSourceCIDRs, "CIDRs that may reach a remote exposure (LoadBalancer or NodePort); empty allows every source.")
	fs.StringArrayVar(&o.MonitoringNamespaces, "monitoring-namespace", o.MonitoringNamespaces, "Namespace allowed to scrape the engines' metrics ports through the guard rails (repeatable).")
	fs.DurationVar(&o.WorkResync, "work-resync", work.DefaultResync, "Mean time between two reconciles of an unchanged ServiceWork, jittered by 20%; a converged work writes nothing then.")
}

// Default fills the zero fields with defaults.
func (o *Options) Default() {
	if o.HubNamespace == "" && o.MemberName != "" {
		o.HubNamespace = HubNamespacePrefix + o.MemberName
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = lease.DefaultDuration
	}
	if o.ProbeListen == "" {
		o.ProbeListen = DefaultProbeListen
	}
	if len(o.PoolLabels) == 0 {
		o.PoolLabels = inventory.DefaultPoolLabels
	}
	if o.CiliumNamespace == "" {
		o.CiliumNamespace = inventory.DefaultCiliumNamespace
	}
	if o.RetryStart == 0 {
		o.RetryStart = DefaultRetryStart
	}
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.MetricsBindAddress == "" {
		o.MetricsBindAddress = "0"
	}
	if o.AgentVersion == "" {
		o.AgentVersion = BuildVersion()
	}
	if o.SystemNamespace == "" {
		o.SystemNamespace = work.DefaultSystemNamespace
	}
	if o.WorkResync == 0 {
		o.WorkResync = work.DefaultResync
	}
}

// Validate reports every invalid option, naming its flag.
func (o *Options) Validate() error {
	var errs []error
	if o.MemberName == "" {
		errs = append(errs, errors.New("--member-name is required"))
	} else if msgs := validation.IsDNS1123Label(o.MemberName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--member-name %q: %s", o.MemberName, msgs[0]))
	}
	if o.HubNamespace != "" {
		if msgs := validation.IsDNS1123Label(o.HubNamespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--hub-namespace %q: %s", o.HubNamespace, msgs[0]))
		}
	}
	if o.HubConfig == nil {
		errs = append(errs, errors.New("--hub-kubeconfig is required"))
	}
	if o.MemberConfig == nil {
		errs = append(errs, errors.New("member cluster config is missing (--kubeconfig, or run in a cluster)"))
	}
	if o.LeaseDuration < 3*time.Second {
		errs = append(errs, fmt.Errorf("--lease-duration must be at least 3s, got %s", o.LeaseDuration))
	}
	if _, _, err := net.SplitHostPort(o.ProbeListen); err != nil {
		errs = append(errs, fmt.Errorf("--probe-listen %q must be host:port: %w", o.ProbeListen, err))
	}
	positive := []struct {
		flag string
		d    time.Duration
	}{
		{"--probe-interval", o.ProbeInterval}, {"--probe-timeout", o.ProbeTimeout},
		{"--inventory-interval", o.InventoryInterval}, {"--status-interval", o.StatusInterval},
		{"--status-resync", o.StatusResync}, {"--retry-start", o.RetryStart}, {"--retry-max", o.RetryMax},
	}
	for _, p := range positive {
		if p.d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", p.flag, p.d))
		}
	}
	if o.ProbeTimeout > 0 && o.ProbeInterval > 0 && o.ProbeTimeout >= o.ProbeInterval {
		errs = append(errs, fmt.Errorf("--probe-timeout %s must be shorter than --probe-interval %s", o.ProbeTimeout, o.ProbeInterval))
	}
	if o.RetryStart > o.RetryMax {
		errs = append(errs, fmt.Errorf("--retry-start %s must not exceed --retry-max %s", o.RetryStart, o.RetryMax))
	}
	if o.ProbePings < 0 || o.ProbePings > 100 {
		errs = append(errs, fmt.Errorf("--probe-pings must be in 0-100, got %d", o.ProbePings))
	}
	if o.ProbeMaxPeers < 0 || o.ProbeMaxPeers > 1000 {
		errs = append(errs, fmt.Errorf("--probe-max-peers must be in 0-1000, got %d", o.ProbeMaxPeers))
	}
	for i, l := range o.PoolLabels {
		if msgs := validation.IsQualifiedName(l); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--pool-label[%d] %q: %s", i, l, msgs[0]))
		}
	}
	if msgs := validation.IsDNS1123Label(o.SystemNamespace); o.SystemNamespace != "" && len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--system-namespace %q: %s", o.SystemNamespace, msgs[0]))
	}
	if o.NodeAddress != "" && net.ParseIP(o.NodeAddress) == nil {
		if msgs := validation.IsDNS1123Subdomain(o.NodeAddress); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--node-address %q is neither an IP address nor a DNS name: %s", o.NodeAddress, msgs[0]))
		}
	}
	for i, c := range o.ExposureSourceCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, fmt.Errorf("--exposure-source-cidr[%d] %q: %w", i, c, err))
		}
	}
	for i, ns := range o.MonitoringNamespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--monitoring-namespace[%d] %q: %s", i, ns, msgs[0]))
		}
	}
	if o.WorkResync < 0 {
		errs = append(errs, fmt.Errorf("--work-resync must not be negative, got %s", o.WorkResync))
	}
	if o.CiliumNamespace != "" {
		if msgs := validation.IsDNS1123Label(o.CiliumNamespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--cilium-namespace %q: %s", o.CiliumNamespace, msgs[0]))
		}
	}
	return errors.Join(errs...)
}
