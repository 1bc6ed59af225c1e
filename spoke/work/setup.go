package work

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// Defaults of Options.
const (
	// DefaultSystemNamespace holds the spoke's records in the member.
	DefaultSystemNamespace = "berth-system"
	// DefaultResync is the mean time between two reconciles of a work
	// nothing happened to; each wait is jittered by ±20%.
	DefaultResync = 10 * time.Minute
	// DefaultMaxConcurrentReconciles of each controller.
	DefaultMaxConcurrentReconciles = 4
)

// zalandoTeamLabel is the label the Zalando operator puts on the
// StatefulSet and Secrets of a cluster, with the cluster's teamId
// (labelsSet in the operator's pkg/cluster/util.go); berth renders every
// cluster with teamId "berth".
const (
	zalandoTeamLabel = "team"
	zalandoTeamValue = "berth"
)

// Options configure the ServiceWork controllers of one member (see Setup).
type Options struct {
	// MemberCluster is the member cluster. Its cache must be configured
	// with MemberCacheOptions. Required.
	MemberCluster cluster.Cluster
	// Hub reads ServiceWorks and Secrets of HubNamespace through the hub
	// manager's cache and writes work status and published credentials.
	// Defaults to the manager's client.
	Hub client.Client
	// Member writes to the member cluster. Defaults to MemberCluster's
	// client; reads never go through it.
	Member client.Client
	// MemberReader reads the member cluster live, for what the cache
	// cannot answer (an object that may exist without the labels the
	// cache selects). Defaults to MemberCluster's API reader.
	MemberReader client.Reader
	// MemberName is this member's name. Required.
	MemberName string
	// HubNamespace is this member's hub namespace. Required.
	HubNamespace string
	// SystemNamespace holds the records in the member; created when
	// missing. Defaults to DefaultSystemNamespace.
	SystemNamespace string
	// Capabilities returns the member's current capabilities. Required.
	Capabilities func() fleetv1alpha1.Capabilities
	// OperatorNamespaces returns where each installed operator runs
	// (inventory.Collector.OperatorNamespaces); the guard rails admit them.
	// Nil admits no operator.
	OperatorNamespaces func() map[fleetv1alpha1.Operator][]string
	// MonitoringNamespaces may scrape the engines' metrics ports.
	MonitoringNamespaces []string
	// InputsChanged, when set, signals that the capabilities or the
	// operator namespaces changed: every work is applied again (its guard
	// rails may change) without waiting for the resync.
	InputsChanged <-chan struct{}
	// NodeAddress is reported as the host of NodePort exposures; empty
	// uses the first Ready node's address.
	NodeAddress string
	// ExposureSourceCIDRs may reach remote exposures (see render.Inputs).
	ExposureSourceCIDRs []string
	// Resync is the mean time between two reconciles of an unchanged
	// work. Defaults to DefaultResync.
	Resync time.Duration
	// MaxConcurrentReconciles of each controller. Defaults to
	// DefaultMaxConcurrentReconciles.
	MaxConcurrentReconciles int
}

// MemberCacheOptions configure the member cluster's cache for the
// ServiceWork controllers: it holds the objects labelled
// fleet.berth.io/servicework (what the spoke applied, the records, and the
// children operators copy that label to), the shared PriorityClass, and the
// nodes (only their addresses, read for NodePort exposures).
func MemberCacheOptions() (cache.Options, error) {
	rendered, err := labels.NewRequirement(fleetv1alpha1.LabelServiceWork, selection.Exists, nil)
	if err != nil {
		return cache.Options{}, err
	}
	return cache.Options{
		DefaultLabelSelector: labels.NewSelector().Add(*rendered),
		ByObject: map[client.Object]cache.ByObject{
			&schedulingv1.PriorityClass{}: {Label: labels.SelectorFromSet(labels.Set{render.LabelShared: "true"})},
			&corev1.Node{}:                {Label: labels.Everything(), Transform: slimNode},
		},
	}, nil
}

// slimNode keeps only what firstNodeAddress reads of a node.
func slimNode(obj any) (any, error) {
	switch n := obj.(type) {
	case *corev1.Node:
		return &corev1.Node{
			TypeMeta:   n.TypeMeta,
			ObjectMeta: metav1ObjectMetaName(n.Name, n.ResourceVersion, n.UID),
			Status:     corev1.NodeStatus{Addresses: n.Status.Addresses},
		}, nil
	default:
		return obj, nil
	}
}

// base holds what the three controllers share.
type base struct {
	Options
	memberCache cache.Cache
	// operatorCache holds the Zalando operator's StatefulSets and Secrets
	// of berth's clusters, which carry none of berth's labels.
	operatorCache cache.Cache
	watches       *watchSet
	index         *indexes

	nsOnce  sync.Mutex
	nsReady bool

	// workLocks serialise the apply and finalize passes of one work, so
	// that a pass started before a deletion never creates objects the
	// finalize pass does not see in the record.
	workLocks sync.Map
}

// lockWork locks the work key until the returned unlock is called.
func (b *base) lockWork(key types.NamespacedName) (unlock func()) {
	m, _ := b.workLocks.LoadOrStore(key, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Setup registers the ServiceWork controllers with the hub-side manager
// mgr; it contacts no apiserver, so it succeeds while the hub is down:
// ApplyReconciler (render, apply, prune, record), StatusReconciler
// (observe the service, publish credentials, serving status) and
// FinalizeReconciler (Retain or Delete on deletion). It also adds the
// member cache of the operator children the status needs.
func Setup(_ context.Context, mgr ctrl.Manager, opts Options) error {
	switch {
	case opts.MemberCluster == nil:
		return errors.New("work: Options.MemberCluster must not be nil")
	case opts.MemberName == "" || opts.HubNamespace == "":
		return errors.New("work: Options.MemberName and Options.HubNamespace must be set")
	case opts.Capabilities == nil:
		return errors.New("work: Options.Capabilities must not be nil")
	case opts.Resync < 0:
		return fmt.Errorf("work: Options.Resync must not be negative, got %s", opts.Resync)
	}
	if opts.Hub == nil {
		opts.Hub = mgr.GetClient()
	}
	if opts.Member == nil {
		opts.Member = opts.MemberCluster.GetClient()
	}
	if opts.MemberReader == nil {
		opts.MemberReader = opts.MemberCluster.GetAPIReader()
	}
	if opts.SystemNamespace == "" {
		opts.SystemNamespace = DefaultSystemNamespace
	}
	if opts.Resync == 0 {
		opts.Resync = DefaultResync
	}
	if opts.MaxConcurrentReconciles <= 0 {
		opts.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	member := opts.MemberCluster
	opCache, err := cache.New(member.GetConfig(), cache.Options{
		Scheme: member.GetScheme(), Mapper: member.GetRESTMapper(), HTTPClient: member.GetHTTPClient(),
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{zalandoTeamLabel: zalandoTeamValue}),
	})
	if err != nil {
		return fmt.Errorf("work: creating the operator children cache: %w", err)
	}
	if err := mgr.Add(opCache); err != nil {
		return err
	}
	b := &base{Options: opts, memberCache: member.GetCache(), operatorCache: opCache, index: newIndexes()}
	b.watches = newWatchSet(b)

	apply, err := ctrl.NewControllerManagedBy(mgr).
		Named("servicework-apply").
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		For(&fleetv1alpha1.ServiceWork{}, builderPredicates(applyWorkPredicate())).
		WatchesRawSource(b.hubSecretSource(mgr, b.consumersOfSecret)).
		WatchesRawSource(&allWorksSource{b: b, signal: opts.InputsChanged}).
		Build(&ApplyReconciler{base: b})
	if err != nil {
		return fmt.Errorf("work: building the apply controller: %w", err)
	}
	status, err := ctrl.NewControllerManagedBy(mgr).
		Named("servicework-status").
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		For(&fleetv1alpha1.ServiceWork{}, builderPredicates(statusWorkPredicate())).
		WatchesRawSource(b.hubSecretSource(mgr, b.publisherOfSecret)).
		Build(&StatusReconciler{base: b})
	if err != nil {
		return fmt.Errorf("work: building the status controller: %w", err)
	}
	finalize, err := ctrl.NewControllerManagedBy(mgr).
		Named("servicework-finalize").
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		For(&fleetv1alpha1.ServiceWork{}, builderPredicates(finalizeWorkPredicate())).
		Build(&FinalizeReconciler{base: b})
	if err != nil {
		return fmt.Errorf("work: building the finalize controller: %w", err)
	}
	b.watches.controllers = controllers{apply: apply, status: status, finalize: finalize}
	return b.watches.startStatic()
}

// resync is the jittered wait before the next periodic reconcile.
func (b *base) resync() time.Duration {
	return time.Duration(float64(b.Resync) * (0.8 + 0.4*rand.Float64()))
}
