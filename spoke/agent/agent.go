package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/backoff"
	"github.com/berth-io/berth/spoke/inventory"
	"github.com/berth-io/berth/spoke/lease"
	"github.com/berth-io/berth/spoke/probe"
	"github.com/berth-io/berth/spoke/report"
	"github.com/berth-io/berth/spoke/work"
)

// Agent is a wired spoke: a manager for the hub namespace, a cluster for the
// member cluster, the heartbeat, inventory, probe and report runnables and
// the ServiceWork controllers (package work), all added to the manager.
type Agent struct {
	opts     Options
	mgr      manager.Manager
	member   cluster.Cluster
	server   *probe.Server
	endpoint string

	renewer   *lease.Renewer
	reporter  *report.Reporter
	prober    *probe.Prober
	collector *inventory.Collector

	mu                 sync.Mutex
	caps               fleetv1alpha1.Capabilities
	operatorNamespaces map[fleetv1alpha1.Operator][]string
	// inputsChanged tells the ServiceWork controllers that the
	// capabilities or the operator namespaces changed.
	inputsChanged chan struct{}
}

// NewScheme returns the kinds the spoke reads and writes on either side.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := fleetv1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// hubCacheSyncTimeout lets controllers on the hub manager wait for the hub
// as long as it is away, instead of failing the whole spoke after
// controller-runtime's default of two minutes.
const hubCacheSyncTimeout = 365 * 24 * time.Hour

// New validates opts, opens the probe listener and wires the agent. Nothing
// is contacted before Start, so New succeeds while the hub is down.
func New(opts Options) (*Agent, error) {
	opts.Default()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	registerMetrics()
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	retry := backoff.Exponential{Initial: opts.RetryStart, Max: opts.RetryMax, Factor: 2, Jitter: 0.2}

	// The manager's cluster is the hub, seen through one namespace: the
	// spoke's identity may not list anything cluster-wide. MemberClusters
	// (cluster-scoped, get only) and Leases (no list/watch) are always
	// read directly.
	mgr, err := ctrl.NewManager(opts.HubConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{DefaultNamespaces: map[string]cache.Config{opts.HubNamespace: {}}},
		Client: client.Options{Cache: &client.CacheOptions{
			DisableFor: []client.Object{&fleetv1alpha1.MemberCluster{}, &coordinationv1.Lease{}},
		}},
		// Several agents may run in one process (tests, in-process
		// fleets); their ServiceWork controllers share names.
		Controller:             ctrlconfig.Controller{CacheSyncTimeout: hubCacheSyncTimeout, SkipNameValidation: ptr.To(true)},
		Metrics:                metricsserver.Options{BindAddress: opts.MetricsBindAddress},
		HealthProbeBindAddress: opts.HealthProbeBindAddress,
		Logger:                 ctrl.Log.WithName("spoke").WithValues("member", opts.MemberName),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the hub manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}

	// The member cluster's shared cache holds what the ServiceWork
	// controllers read (see work.MemberCacheOptions); the inventory keeps
	// its own cache of nodes, pods and CRDs.
	memberCache, err := work.MemberCacheOptions()
	if err != nil {
		return nil, err
	}
	member, err := cluster.New(opts.MemberConfig, func(o *cluster.Options) {
		o.Scheme = scheme
		o.Logger = ctrl.Log.WithName("member").WithValues("member", opts.MemberName)
		o.Cache = memberCache
	})
	if err != nil {
		return nil, fmt.Errorf("creating the member cluster client: %w", err)
	}
	if err := mgr.Add(member); err != nil {
		return nil, err
	}

	server, err := probe.Listen(opts.ProbeListen)
	if err != nil {
		return nil, fmt.Errorf("--probe-listen: %w", err)
	}
	endpoint, err := probe.Advertise(opts.ProbeAdvertise, server.Addr(), opts.PodIP)
	switch {
	case errors.Is(err, probe.ErrNoAdvertiseHost):
		// Heartbeat and inventory matter more than latency: run, but
		// publish no endpoint, so the hub lists this member to no peer.
		mgr.GetLogger().Info("Not advertising the probe endpoint: peers cannot measure their latency to this member", "reason", err.Error())
		endpoint = ""
	case err != nil:
		_ = server.Close()
		return nil, err
	}

	a := &Agent{opts: opts, mgr: mgr, member: member, server: server, endpoint: endpoint, inputsChanged: make(chan struct{}, 1)}
	a.renewer = &lease.Renewer{
		Client:    mgr.GetClient(),
		Namespace: opts.HubNamespace,
		Holder:    opts.MemberName,
		Duration:  opts.LeaseDuration,
		Backoff:   retry,
		OnRenew:   func(t time.Time) { leaseRenewTime.WithLabelValues(opts.MemberName).Set(float64(t.UnixNano()) / 1e9) },
	}
	a.reporter = &report.Reporter{
		Client:        mgr.GetClient(),
		Member:        opts.MemberName,
		AgentVersion:  opts.AgentVersion,
		ProbeEndpoint: endpoint,
		MinInterval:   opts.StatusInterval,
		Resync:        opts.StatusResync,
		Backoff:       retry,
		OnWrite:       func() { statusWrites.WithLabelValues(opts.MemberName).Inc() },
	}
	a.collector, err = inventory.NewCollector(opts.MemberConfig, inventory.CollectorOptions{
		PoolLabels:      opts.PoolLabels,
		CiliumNamespace: opts.CiliumNamespace,
		MinInterval:     opts.InventoryInterval,
		Publish:         a.setInventory,
	})
	if err != nil {
		_ = server.Close()
		return nil, err
	}
	a.prober = &probe.Prober{
		Self:  opts.MemberName,
		Peers: a.peers,
		Publish: func(l []fleetv1alpha1.PeerLatency) {
			recordLatencies(opts.MemberName, l)
			a.reporter.SetLatencies(l)
		},
		Interval:         opts.ProbeInterval,
		Timeout:          opts.ProbeTimeout,
		PingsPerPeer:     opts.ProbePings,
		MaxPeersPerRound: opts.ProbeMaxPeers,
	}

	if err := work.Setup(context.Background(), mgr, work.Options{
		MemberCluster:        member,
		MemberName:           opts.MemberName,
		HubNamespace:         opts.HubNamespace,
		SystemNamespace:      opts.SystemNamespace,
		Capabilities:         a.Capabilities,
		OperatorNamespaces:   a.collector.OperatorNamespaces,
		InputsChanged:        a.inputsChanged,
		MonitoringNamespaces: opts.MonitoringNamespaces,
		NodeAddress:          opts.NodeAddress,
		ExposureSourceCIDRs:  opts.ExposureSourceCIDRs,
		Resync:               opts.WorkResync,
	}); err != nil {
		_ = server.Close()
		return nil, err
	}

	log := mgr.GetLogger()
	for name, r := range map[string]manager.Runnable{
		"probe-server": server,
		"lease":        a.renewer,
		"report":       a.reporter,
		"inventory":    a.collector,
		"prober":       a.prober,
	} {
		l := log.WithName(name)
		if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			return r.Start(ctrl.LoggerInto(ctx, l))
		})); err != nil {
			_ = server.Close()
			return nil, err
		}
	}
	return a, nil
}

// Run builds an agent from opts and runs it until ctx ends.
func Run(ctx context.Context, opts Options) error {
	a, err := New(opts)
	if err != nil {
		return err
	}
	return a.Start(ctx)
}

// Start runs the agent until ctx ends. It keeps running while the hub is
// unreachable.
func (a *Agent) Start(ctx context.Context) error {
	defer a.server.Close()
	a.mgr.GetLogger().Info("Starting berth-spoke", "version", a.opts.AgentVersion,
		"hubNamespace", a.opts.HubNamespace, "probeEndpoint", a.endpoint)
	return a.mgr.Start(ctx)
}

// Manager is the hub-side manager, its cache restricted to the member's hub
// namespace. The ServiceWork controllers run on it.
func (a *Agent) Manager() manager.Manager { return a.mgr }

// Member is the member cluster. Its cache holds what the ServiceWork
// controllers read (work.MemberCacheOptions).
func (a *Agent) Member() cluster.Cluster { return a.member }

// Capabilities are the member's capabilities from the latest inventory;
// zero before the first one.
func (a *Agent) Capabilities() fleetv1alpha1.Capabilities {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.caps
}

func (a *Agent) setInventory(s inventory.Snapshot) {
	a.mu.Lock()
	changed := !equality.Semantic.DeepEqual(a.caps, s.Capabilities) || !equality.Semantic.DeepEqual(a.operatorNamespaces, s.OperatorNamespaces)
	a.caps, a.operatorNamespaces = s.Capabilities, s.OperatorNamespaces
	a.mu.Unlock()
	if changed {
		// The ServiceWork controllers render again: the guard rails
		// depend on both.
		select {
		case a.inputsChanged <- struct{}{}:
		default:
		}
	}
	a.reporter.SetInventory(s)
}

// HubNamespace is the member's namespace on the hub.
func (a *Agent) HubNamespace() string { return a.opts.HubNamespace }

// ProbeEndpoint is the advertised probe address.
func (a *Agent) ProbeEndpoint() string { return a.endpoint }

// LastLeaseRenew is when the Lease was last renewed.
func (a *Agent) LastLeaseRenew() time.Time { return a.renewer.LastRenew() }

// LastStatusWrite is when the hub last accepted a status write.
func (a *Agent) LastStatusWrite() time.Time { return a.reporter.LastApplied() }

// StatusWrites is how many status writes the hub accepted.
func (a *Agent) StatusWrites() int { return a.reporter.Writes() }

// peers reads the peers ConfigMap through the hub namespace cache. A
// missing ConfigMap means no peers.
func (a *Agent) peers(ctx context.Context) (map[string]string, error) {
	cm := &corev1.ConfigMap{}
	err := a.mgr.GetCache().Get(ctx, client.ObjectKey{Namespace: a.opts.HubNamespace, Name: PeersConfigMap}, cm)
	switch {
	case apierrors.IsNotFound(err):
		return map[string]string{}, nil
	case err != nil:
		return nil, fmt.Errorf("reading ConfigMap %s/%s on the hub: %w", a.opts.HubNamespace, PeersConfigMap, err)
	}
	if cm.Data == nil {
		return map[string]string{}, nil
	}
	return cm.Data, nil
}
