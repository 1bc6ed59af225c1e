package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// DefaultMinInterval is the default minimum time between two recomputations.
const DefaultMinInterval = 5 * time.Second

// Snapshot is the inventory at one moment.
type Snapshot struct {
	// NodePools sorted by name.
	NodePools []fleetv1alpha1.NodePool
	// Capabilities of the cluster.
	Capabilities fleetv1alpha1.Capabilities
	// OperatorNamespaces are the namespaces each operator runs in (see
	// DiscoverOperatorNamespaces). They stay in the member: the hub never
	// sees them.
	OperatorNamespaces map[fleetv1alpha1.Operator][]string
}

// Collector keeps the inventory of one cluster current from watches. Create
// it with NewCollector; it implements manager.Runnable.
type Collector struct {
	poolLabels      []string
	ciliumNamespace string
	minInterval     time.Duration
	publish         func(Snapshot)
	cache           cache.Cache
	trigger         chan struct{}

	mu        sync.Mutex
	operators map[fleetv1alpha1.Operator][]string
	// recomputes counts inventory computations, for tests.
	recomputes atomic.Int64
}

// CollectorOptions configure a Collector.
type CollectorOptions struct {
	// PoolLabels name a node's pool; default DefaultPoolLabels.
	PoolLabels []string
	// CiliumNamespace holds the Cilium Secret and ConfigMap; default
	// DefaultCiliumNamespace.
	CiliumNamespace string
	// MinInterval is the least time between two recomputations; default
	// DefaultMinInterval.
	MinInterval time.Duration
	// Publish receives every snapshot that differs from the previous one.
	Publish func(Snapshot)
}

// NewCollector builds a Collector, and its own cache, for the cluster cfg
// reaches. Nothing is contacted before Start.
func NewCollector(cfg *rest.Config, opts CollectorOptions) (*Collector, error) {
	if opts.Publish == nil {
		return nil, errors.New("inventory collector needs Publish")
	}
	if len(opts.PoolLabels) == 0 {
		opts.PoolLabels = DefaultPoolLabels
	}
	for i, l := range opts.PoolLabels {
		if l == "" {
			return nil, fmt.Errorf("pool label %d is empty", i)
		}
	}
	if opts.CiliumNamespace == "" {
		opts.CiliumNamespace = DefaultCiliumNamespace
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = DefaultMinInterval
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	named := func(name string) cache.ByObject {
		return cache.ByObject{
			Namespaces:            map[string]cache.Config{opts.CiliumNamespace: {}},
			Field:                 fields.OneTermEqualSelector("metadata.name", name),
			Transform:             slim,
			UnsafeDisableDeepCopy: ptr.To(true),
		}
	}
	c, err := cache.New(cfg, cache.Options{
		Scheme: scheme,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Node{}: {Transform: slim, UnsafeDisableDeepCopy: ptr.To(true)},
			&corev1.Pod{}: {
				Field:                 boundPods,
				Transform:             slim,
				UnsafeDisableDeepCopy: ptr.To(true),
			},
			&apiextensionsv1.CustomResourceDefinition{}: {Transform: slim, UnsafeDisableDeepCopy: ptr.To(true)},
			&corev1.Secret{}:    named(ClusterMeshSecret),
			&corev1.ConfigMap{}: named(CiliumConfigMap),
			// Operator discovery: cluster-wide, slimmed to the rules that
			// name an operator group, the ServiceAccount subjects and the
			// Deployments' ServiceAccount.
			&rbacv1.ClusterRole{}:        {Transform: slim, UnsafeDisableDeepCopy: ptr.To(true)},
			&rbacv1.ClusterRoleBinding{}: {Transform: slim, UnsafeDisableDeepCopy: ptr.To(true)},
			&appsv1.Deployment{}:         {Transform: slim, UnsafeDisableDeepCopy: ptr.To(true)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the inventory cache: %w", err)
	}
	return &Collector{
		poolLabels:      opts.PoolLabels,
		ciliumNamespace: opts.CiliumNamespace,
		minInterval:     opts.MinInterval,
		publish:         opts.Publish,
		cache:           c,
		trigger:         make(chan struct{}, 1),
	}, nil
}

// boundPods selects the pods that can hold resources on a node.
var boundPods = fields.AndSelectors(
	fields.OneTermNotEqualSelector("spec.nodeName", ""),
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
)

// Start runs the watches and publishes snapshots until ctx ends.
func (c *Collector) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("inventory")
	ctx = ctrl.LoggerInto(ctx, log)
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { c.markDirty() },
		UpdateFunc: func(oldObj, newObj any) {
			if slimChanged(oldObj, newObj) {
				c.markDirty()
			}
		},
		DeleteFunc: func(any) { c.markDirty() },
	}
	for _, obj := range []client.Object{
		&corev1.Node{}, &corev1.Pod{}, &apiextensionsv1.CustomResourceDefinition{}, &corev1.Secret{}, &corev1.ConfigMap{},
		&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}, &appsv1.Deployment{},
	} {
		inf, err := c.cache.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	cacheDone := make(chan error, 1)
	go func() { cacheDone <- c.cache.Start(ctx) }()
	if !c.cache.WaitForCacheSync(ctx) {
		if err := ctx.Err(); err != nil {
			return nil
		}
		return errors.New("inventory cache did not sync")
	}
	log.Info("Inventory watches synced")
	c.markDirty()

	var prev *Snapshot
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return <-cacheDone
		case <-c.trigger:
		}
		// Coalesce: whatever happens during the wait is covered by this
		// computation.
		if wait := c.minInterval - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return <-cacheDone
			case <-time.After(wait):
			}
		}
		select {
		case <-c.trigger:
		default:
		}
		last = time.Now()
		c.recomputes.Add(1)
		snap, err := c.Snapshot(ctx)
		if err != nil {
			log.Error(err, "Cannot compute the inventory")
			continue
		}
		if prev != nil && equality.Semantic.DeepEqual(*prev, snap) {
			continue
		}
		prev = &snap
		c.mu.Lock()
		c.operators = cloneOperatorNamespaces(snap.OperatorNamespaces)
		c.mu.Unlock()
		log.V(1).Info("Inventory changed", "pools", len(snap.NodePools), "operators", snap.Capabilities.Operators,
			"operatorNamespaces", snap.OperatorNamespaces)
		c.publish(snap)
	}
}

func (c *Collector) markDirty() {
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// OperatorNamespaces are the namespaces each installed operator runs in,
// from the latest published snapshot (see DiscoverOperatorNamespaces); nil
// before the first one. The caller owns the returned map.
func (c *Collector) OperatorNamespaces() map[fleetv1alpha1.Operator][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloneOperatorNamespaces(c.operators)
}

// Snapshot computes the inventory from the cache.
func (c *Collector) Snapshot(ctx context.Context) (Snapshot, error) {
	var nodes corev1.NodeList
	if err := c.cache.List(ctx, &nodes); err != nil {
		return Snapshot{}, fmt.Errorf("listing nodes: %w", err)
	}
	var pods corev1.PodList
	if err := c.cache.List(ctx, &pods); err != nil {
		return Snapshot{}, fmt.Errorf("listing pods: %w", err)
	}
	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := c.cache.List(ctx, &crds); err != nil {
		return Snapshot{}, fmt.Errorf("listing CRDs: %w", err)
	}
	mesh := &corev1.Secret{}
	if err := c.cache.Get(ctx, client.ObjectKey{Namespace: c.ciliumNamespace, Name: ClusterMeshSecret}, mesh); err != nil {
		if !apierrors.IsNotFound(err) {
			return Snapshot{}, fmt.Errorf("reading Secret %s/%s: %w", c.ciliumNamespace, ClusterMeshSecret, err)
		}
		mesh = nil
	}
	config := &corev1.ConfigMap{}
	if err := c.cache.Get(ctx, client.ObjectKey{Namespace: c.ciliumNamespace, Name: CiliumConfigMap}, config); err != nil {
		if !apierrors.IsNotFound(err) {
			return Snapshot{}, fmt.Errorf("reading ConfigMap %s/%s: %w", c.ciliumNamespace, CiliumConfigMap, err)
		}
		config = nil
	}
	var roles rbacv1.ClusterRoleList
	if err := c.cache.List(ctx, &roles); err != nil {
		return Snapshot{}, fmt.Errorf("listing ClusterRoles: %w", err)
	}
	var bindings rbacv1.ClusterRoleBindingList
	if err := c.cache.List(ctx, &bindings); err != nil {
		return Snapshot{}, fmt.Errorf("listing ClusterRoleBindings: %w", err)
	}
	var deployments appsv1.DeploymentList
	if err := c.cache.List(ctx, &deployments); err != nil {
		return Snapshot{}, fmt.Errorf("listing Deployments: %w", err)
	}
	return Snapshot{
		NodePools:          NodePools(ptrs(nodes.Items), ptrs(pods.Items), c.poolLabels),
		Capabilities:       DetectCapabilities(ptrs(crds.Items), mesh, config),
		OperatorNamespaces: DiscoverOperatorNamespaces(ptrs(roles.Items), ptrs(bindings.Items), ptrs(deployments.Items)),
	}, nil
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// slim keeps only the fields the inventory reads, so the informers hold
// little memory. It leaves anything that is not one of the watched kinds
// untouched.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Node:
		return &corev1.Node{
			ObjectMeta: slimMeta(o.ObjectMeta, true),
			Spec:       corev1.NodeSpec{Taints: o.Spec.Taints, Unschedulable: o.Spec.Unschedulable},
			Status:     corev1.NodeStatus{Allocatable: o.Status.Allocatable},
		}, nil
	case *corev1.Pod:
		p := &corev1.Pod{
			ObjectMeta: slimMeta(o.ObjectMeta, false),
			Spec: corev1.PodSpec{
				NodeName:  o.Spec.NodeName,
				Overhead:  o.Spec.Overhead,
				Resources: o.Spec.Resources,
			},
			Status: corev1.PodStatus{Phase: o.Status.Phase},
		}
		for _, c := range o.Spec.Containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c.Name, Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests}})
		}
		for _, c := range o.Spec.InitContainers {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: c.Name, RestartPolicy: c.RestartPolicy, Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests}})
		}
		return p, nil
	case *apiextensionsv1.CustomResourceDefinition:
		return &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: slimMeta(o.ObjectMeta, false),
			Status:     apiextensionsv1.CustomResourceDefinitionStatus{Conditions: o.Status.Conditions},
		}, nil
	case *corev1.Secret:
		// Keep the keys, never the values.
		s := &corev1.Secret{ObjectMeta: slimMeta(o.ObjectMeta, false), Data: make(map[string][]byte, len(o.Data))}
		for k := range o.Data {
			s.Data[k] = nil
		}
		return s, nil
	case *corev1.ConfigMap:
		cm := &corev1.ConfigMap{ObjectMeta: slimMeta(o.ObjectMeta, false)}
		if v, ok := o.Data[CiliumClusterNameKey]; ok {
			cm.Data = map[string]string{CiliumClusterNameKey: v}
		}
		return cm, nil
	case *rbacv1.ClusterRole:
		return slimClusterRole(o), nil
	case *rbacv1.ClusterRoleBinding:
		return slimClusterRoleBinding(o), nil
	case *appsv1.Deployment:
		return slimDeployment(o), nil
	}
	return obj, nil
}

// slimChanged reports whether an update changed what the inventory reads.
// The informers hold slimmed objects, so an update that only touched fields
// slim drops (a Deployment's status, a node's heartbeat conditions, a pod's
// conditions) differs in its resourceVersion alone and is ignored.
func slimChanged(oldObj, newObj any) bool {
	o, ok := oldObj.(client.Object)
	n, ok2 := newObj.(client.Object)
	if !ok || !ok2 {
		return true
	}
	// The cache shares its objects (UnsafeDisableDeepCopy): compare copies.
	oc, nc := o.DeepCopyObject().(client.Object), n.DeepCopyObject().(client.Object)
	oc.SetResourceVersion("")
	nc.SetResourceVersion("")
	return !equality.Semantic.DeepEqual(oc, nc)
}

func slimMeta(m metav1.ObjectMeta, labels bool) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		DeletionTimestamp: m.DeletionTimestamp,
	}
	if labels {
		out.Labels = m.Labels
	}
	return out
}
