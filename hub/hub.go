package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	placementctrl "github.com/berth-io/berth/controllers/placement"
	"github.com/berth-io/berth/controllers/placementpolicy"
	"github.com/berth-io/berth/controllers/propagation"
	"github.com/berth-io/berth/controllers/registration"
	"github.com/berth-io/berth/hub/join"
	"github.com/berth-io/berth/placement"
)

// NewScheme returns the hub's scheme: built-in kinds, berth's kinds and the
// Cluster API core kinds.
func NewScheme() (*kruntime.Scheme, error) {
	s := kruntime.NewScheme()
	for _, add := range []func(*kruntime.Scheme) error{
		clientgoscheme.AddToScheme, fleetv1alpha1.AddToScheme, clusterv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("building the hub scheme: %w", err)
		}
	}
	return s, nil
}

// Run starts the hub and blocks until ctx is done.
func Run(ctx context.Context, o Options) error {
	mgr, err := NewManager(o)
	if err != nil {
		return err
	}
	if err := Setup(ctx, mgr, o); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Starting berth-hub")
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the hub manager: %w", err)
	}
	return nil
}

func (o Options) restConfig() (*rest.Config, error) {
	cfg, err := o.baseRestConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case o.KubeAPIQPS > 0:
		cfg.QPS, cfg.Burst = o.KubeAPIQPS, int(2*o.KubeAPIQPS)
	case cfg.QPS == 0:
		cfg.QPS, cfg.Burst = DefaultKubeAPIQPS, 2*DefaultKubeAPIQPS
	}
	return cfg, nil
}

func (o Options) baseRestConfig() (*rest.Config, error) {
	if o.RestConfig != nil {
		return rest.CopyConfig(o.RestConfig), nil
	}
	if o.Kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		return cfg, nil
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("finding the management cluster (use --kubeconfig): %w", err)
	}
	return cfg, nil
}

// NewManager validates o and returns a manager for the management cluster.
func NewManager(o Options) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:  o.HealthProbeBindAddress,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        "berth-hub.fleet.berth.io",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		Cache:                   CacheOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the hub manager: %w", err)
	}
	return mgr, nil
}

// Setup adds the hub's controllers, the bootstrap runnable and the health
// checks to mgr.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	cfg := mgr.GetConfig()
	server := o.HubServer
	if server == "" {
		// Inside the management cluster the hub reaches its apiserver at
		// the in-cluster Service address, which member clusters cannot
		// reach: spokes installed with it would never join.
		if o.SpokeImage != "" && isInClusterHost(cfg.Host) {
			return fmt.Errorf("--hub-server: required with --spoke-image when the hub runs in a cluster: the in-cluster address %s is not reachable from member clusters; pass the management cluster's apiserver URL as members reach it", cfg.Host)
		}
		server = cfg.Host
	}
	caData := cfg.CAData
	if o.HubCAFile != "" {
		b, err := os.ReadFile(o.HubCAFile)
		if err != nil {
			return fmt.Errorf("--hub-ca-file: %w", err)
		}
		caData = b
	} else if len(caData) == 0 && cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("reading the hub's CA file %s: %w", cfg.CAFile, err)
		}
		caData = b
	}

	if err := (&registration.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("berth-hub-registration"),
	}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the registration controller: %w", err)
	}
	if err := (&membercluster.Reconciler{
		Client:                   mgr.GetClient(),
		Recorder:                 mgr.GetEventRecorder("berth-hub"),
		HubServer:                server,
		HubCAData:                caData,
		SpokeImage:               o.SpokeImage,
		SpokeExposureSourceCIDRs: o.SpokeExposureSourceCIDRs,
		TokenExpiration:          o.SpokeTokenExpiration,
		LeaseGraceFactor:         o.LeaseGraceFactor,
	}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the membercluster controller: %w", err)
	}

	placementCfg := placement.DefaultConfig()
	if o.PlacementConfig != "" {
		loaded, err := placement.LoadConfig(o.PlacementConfig)
		if err != nil {
			return fmt.Errorf("--placement-config: %w", err)
		}
		placementCfg = loaded
	}
	placer, err := placement.NewPlacer(o.PlacementRegistry, placementCfg)
	if err != nil {
		return fmt.Errorf("--placement-config: %w", err)
	}
	if err := (&placementctrl.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("berth-placement"),
		Placer:   placer,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the placement controller: %w", err)
	}
	if err := (&placementpolicy.Reconciler{Client: mgr.GetClient(), Placer: placer}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the placementpolicy controller: %w", err)
	}
	if err := (&propagation.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("berth-propagation"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the propagation controller: %w", err)
	}

	if err := NewStateMetrics(mgr.GetCache()).Register(metrics.Registry); err != nil {
		return fmt.Errorf("registering the state metrics: %w", err)
	}

	direct, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("creating an uncached hub client: %w", err)
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		bootstrapLoop(ctx, direct)
		return nil
	})); err != nil {
		return fmt.Errorf("adding the bootstrap runnable: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding the ready check: %w", err)
	}
	// Ready once the informers have synced, which is when the controllers
	// start working; until then a new object waits unseen.
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("informers have not synced yet")
		}
		return nil
	}); err != nil {
		return fmt.Errorf("adding the ready check: %w", err)
	}
	return nil
}

// isInClusterHost reports whether host is the apiserver address that
// client-go's in-cluster config uses: the kubernetes Service of the cluster
// the process runs in.
func isInClusterHost(host string) bool {
	h, p := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if h == "" || p == "" {
		return false
	}
	return strings.TrimSuffix(host, "/") == "https://"+net.JoinHostPort(h, p)
}

// bootstrapLoop installs the manual-join policy and removes expired
// bootstrap identities until ctx is done.
func bootstrapLoop(ctx context.Context, c client.Client) {
	log := ctrl.LoggerFrom(ctx).WithName("bootstrap")
	ensured := false
	wait := time.Second
	for {
		if !ensured {
			if err := join.EnsurePolicy(ctx, c); err != nil {
				log.Error(err, "Installing the manual-join policy failed; retrying", "after", wait)
			} else {
				ensured = true
				wait = 10 * time.Minute
			}
		}
		if ensured {
			if n, err := join.DeleteExpired(ctx, c, time.Now()); err != nil {
				log.Error(err, "Deleting expired bootstrap identities failed")
			} else if n > 0 {
				log.Info("Deleted expired bootstrap identities", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if !ensured && wait < time.Minute {
			wait *= 2
		}
	}
}
