package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/placement/framework"
)

// Options configures the hub.
type Options struct {
	// RestConfig reaches the management cluster. When nil, Kubeconfig is
	// loaded, else the in-cluster config or $KUBECONFIG.
	RestConfig *rest.Config
	// Kubeconfig is a path to the management cluster's kubeconfig.
	Kubeconfig string
	// MetricsBindAddress serves /metrics; "0" disables it.
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" disables it.
	HealthProbeBindAddress string
	// LeaderElect makes only one hub replica active.
	LeaderElect bool
	// LeaderElectionNamespace holds the leader election Lease.
	LeaderElectionNamespace string
	// HubServer is the hub apiserver URL written into spokes' kubeconfigs;
	// empty means the URL of RestConfig.
	HubServer string
	// HubCAFile is a PEM file with the CA spokes trust for HubServer; empty
	// means the CA of RestConfig.
	HubCAFile string
	// SpokeImage is the berth-spoke image installed into members from
	// Cluster API; empty means the hub does not install spokes.
	SpokeImage string
	// SpokeExposureSourceCIDRs are passed to every spoke the hub installs
	// as --exposure-source-cidr: the sources that may reach the members'
	// remote exposures. Empty: every source.
	SpokeExposureSourceCIDRs []string
	// SpokeTokenExpiration is the life of a spoke's hub token (at least
	// 10m); it is renewed at two thirds of it.
	SpokeTokenExpiration time.Duration
	// LeaseGraceFactor: a member is unavailable when its Lease is older than
	// leaseDurationSeconds times this factor (at least 1).
	LeaseGraceFactor float64
	// PlacementConfig is a path to the hub-wide placement config (enabled
	// plugins and default weights per strategy); empty uses the built-in
	// defaults. It is validated at start.
	PlacementConfig string
	// KubeAPIQPS is the client-side rate limit of the hub's requests to the
	// management cluster; the burst is twice this. Zero keeps RestConfig's
	// own limits when set, else DefaultKubeAPIQPS.
	KubeAPIQPS float32
	// PlacementRegistry adds out-of-tree placement plugins; nil uses the
	// in-tree plugins plus those registered with placement.Register.
	PlacementRegistry framework.Registry
}

// NewOptions returns the defaults.
func NewOptions() Options {
	return Options{
		MetricsBindAddress:      ":8080",
		HealthProbeBindAddress:  ":8081",
		LeaderElectionNamespace: "berth-system",
		SpokeTokenExpiration:    membercluster.DefaultTokenExpiration,
		LeaseGraceFactor:        membercluster.DefaultLeaseGraceFactor,
		KubeAPIQPS:              DefaultKubeAPIQPS,
	}
}

// DefaultKubeAPIQPS is the hub's default client-side rate limit. client-go's
// own default (5 QPS, burst 10) throttles a hub that writes a few objects
// per service; the apiserver's priority and fairness protects it.
const DefaultKubeAPIQPS = 100

// AddFlags binds o to flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to the management cluster's kubeconfig; empty uses in-cluster config or $KUBECONFIG.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, `Address of the Prometheus /metrics endpoint; "0" disables it.`)
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, `Address of /healthz and /readyz; "0" disables them.`)
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader so that only one hub replica is active.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader election Lease.")
	fs.StringVar(&o.HubServer, "hub-server", o.HubServer, "Hub apiserver URL that spokes use; empty uses the URL the hub itself uses.")
	fs.StringVar(&o.HubCAFile, "hub-ca-file", o.HubCAFile, "PEM CA bundle spokes trust for --hub-server; empty uses the hub's own CA.")
	fs.StringVar(&o.SpokeImage, "spoke-image", o.SpokeImage, "berth-spoke image the hub installs into Cluster API members; empty disables installation.")
	fs.StringSliceVar(&o.SpokeExposureSourceCIDRs, "spoke-exposure-source-cidr", o.SpokeExposureSourceCIDRs, "CIDRs the spokes the hub installs let reach remote exposures (their --exposure-source-cidr); empty allows every source.")
	fs.StringVar(&o.PlacementConfig, "placement-config", o.PlacementConfig, "Path to the hub-wide placement config (plugins and weights per strategy); empty uses the built-in defaults.")
	fs.DurationVar(&o.SpokeTokenExpiration, "spoke-token-expiration", o.SpokeTokenExpiration, "Life of each spoke's hub token; renewed at two thirds of it. At least 10m.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Client-side requests per second to the management cluster's apiserver; burst is twice this.")
	fs.Float64Var(&o.LeaseGraceFactor, "lease-grace-factor", o.LeaseGraceFactor, "A member is unavailable when its Lease is older than its duration times this factor (at least 1).")
}

// Validate names every bad field.
func (o Options) Validate() error {
	var errs []error
	if o.SpokeTokenExpiration < membercluster.MinTokenExpiration {
		errs = append(errs, fmt.Errorf("--spoke-token-expiration: %s is shorter than %s", o.SpokeTokenExpiration, membercluster.MinTokenExpiration))
	}
	if o.LeaseGraceFactor < 1 {
		errs = append(errs, fmt.Errorf("--lease-grace-factor: %g is below 1", o.LeaseGraceFactor))
	}
	if o.KubeAPIQPS < 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps: %g is negative", o.KubeAPIQPS))
	}
	if o.LeaderElect && o.LeaderElectionNamespace == "" {
		errs = append(errs, errors.New("--leader-election-namespace: must not be empty with --leader-elect"))
	}
	for _, c := range o.SpokeExposureSourceCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("--spoke-exposure-source-cidr: %q is not a CIDR: %w", c, err))
		}
	}
	if o.HubCAFile != "" {
		if _, err := os.Stat(o.HubCAFile); err != nil {
			errs = append(errs, fmt.Errorf("--hub-ca-file: %w", err))
		}
	}
	return errors.Join(errs...)
}
