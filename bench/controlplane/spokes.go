package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/kubeconfig"
	"github.com/berth-io/berth/spoke/inventory"
	"github.com/berth-io/berth/spoke/lease"
	"github.com/berth-io/berth/spoke/render"
	"github.com/berth-io/berth/spoke/report"
)

// simAgentVersion is what the simulated spokes report as agentVersion.
const simAgentVersion = "bench-simulated"

// simWorkers is how many ServiceWorks the simulated spokes answer at once,
// together; berth-spoke runs four per member.
const simWorkers = 8

// enginePorts are the ports the simulated services listen on.
var enginePorts = map[fleetv1alpha1.Engine]int32{
	fleetv1alpha1.EnginePostgreSQL: 5432,
	fleetv1alpha1.EngineRedis:      6379,
	fleetv1alpha1.EngineRabbitMQ:   5672,
}

// simSpoke is one member's simulated spoke. It uses only the member's own
// hub credentials.
type simSpoke struct {
	member    string
	namespace string
	c         client.Client
}

// simFleet starts a simulated spoke for every member the hub issues
// credentials to, and answers ServiceWorks on their behalf. It observes the
// hub through an admin cache, the way a member's own watch would see it,
// but writes only with each member's client.
type simFleet struct {
	ctx           context.Context
	cache         cache.Cache
	mapper        meta.RESTMapper
	scheme        *runtime.Scheme
	leaseDuration time.Duration
	queue         workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu     sync.Mutex
	spokes map[string]*simSpoke // by hub namespace
	errs   []error
	// credentials records when each member's hub kubeconfig appeared.
	credentials *seen
}

func newSimFleet(ctx context.Context, c cache.Cache, mapper meta.RESTMapper, leaseDuration time.Duration) (*simFleet, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, fleetv1alpha1.AddToScheme, coordinationv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	f := &simFleet{
		ctx:           ctx,
		cache:         c,
		mapper:        mapper,
		scheme:        scheme,
		leaseDuration: leaseDuration,
		queue: workqueue.NewTypedRateLimitingQueue(
			workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](50*time.Millisecond, 5*time.Second)),
		spokes:      map[string]*simSpoke{},
		credentials: newSeen(func(client.Object) bool { return true }),
	}
	secrets, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return nil, err
	}
	if _, err := secrets.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    f.onSecret,
		UpdateFunc: func(_, o any) { f.onSecret(o) },
	}); err != nil {
		return nil, err
	}
	works, err := c.GetInformer(ctx, &fleetv1alpha1.ServiceWork{})
	if err != nil {
		return nil, err
	}
	if _, err := works.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    f.enqueue,
		UpdateFunc: func(_, o any) { f.enqueue(o) },
	}); err != nil {
		return nil, err
	}
	for range simWorkers {
		go f.work()
	}
	go func() {
		<-ctx.Done()
		f.queue.ShutDown()
	}()
	return f, nil
}

// failed records an error of a simulated spoke; Err returns them.
func (f *simFleet) failed(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

// Err returns the first errors the simulated spokes met.
func (f *simFleet) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d simulated spoke error(s), first: %w", len(f.errs), f.errs[0])
}

func (f *simFleet) enqueue(o any) {
	if w, ok := o.(*fleetv1alpha1.ServiceWork); ok {
		f.queue.Add(types.NamespacedName{Namespace: w.Namespace, Name: w.Name})
	}
}

// onSecret starts a member's spoke once its hub kubeconfig exists, and
// re-examines a namespace's works when another Secret (copied credentials)
// appears there.
func (f *simFleet) onSecret(o any) {
	s, ok := o.(*corev1.Secret)
	if !ok {
		return
	}
	if s.Name != membercluster.HubKubeconfigSecret {
		f.mu.Lock()
		_, known := f.spokes[s.Namespace]
		f.mu.Unlock()
		if known {
			f.enqueueNamespace(s.Namespace)
		}
		return
	}
	f.mu.Lock()
	_, started := f.spokes[s.Namespace]
	f.mu.Unlock()
	if started {
		return
	}
	member := membercluster.MemberForNamespace(s.Namespace)
	if member == "" {
		return
	}
	f.credentials.record(member)
	sp, err := f.startSpoke(member, s.Namespace, s.Data[kubeconfig.SecretKey])
	if err != nil {
		f.failed(fmt.Errorf("member %s: %w", member, err))
		return
	}
	f.mu.Lock()
	f.spokes[s.Namespace] = sp
	f.mu.Unlock()
	f.enqueueNamespace(s.Namespace)
}

func (f *simFleet) enqueueNamespace(ns string) {
	list := &fleetv1alpha1.ServiceWorkList{}
	if err := f.cache.List(f.ctx, list, client.InNamespace(ns)); err != nil {
		f.failed(err)
		return
	}
	for i := range list.Items {
		f.enqueue(&list.Items[i])
	}
}

// startSpoke builds the member's client from the kubeconfig the hub issued
// and starts the real Lease renewer and status reporter with it.
func (f *simFleet) startSpoke(member, ns string, kc []byte) (*simSpoke, error) {
	cfg, err := kubeconfig.RESTConfig(kc)
	if err != nil {
		return nil, fmt.Errorf("hub kubeconfig: %w", err)
	}
	// berth-spoke's --kube-api-qps default.
	cfg.QPS, cfg.Burst = 100, 200
	// Every spoke discovers the hub's API once when it starts. The
	// simulated spokes share one discovery, so that starting a thousand of
	// them at once does not measure a thousand discoveries.
	c, err := client.New(cfg, client.Options{Scheme: f.scheme, Mapper: f.mapper})
	if err != nil {
		return nil, err
	}
	renewer := &lease.Renewer{Client: c, Namespace: ns, Holder: member, Duration: f.leaseDuration}
	reporter := &report.Reporter{Client: c, Member: member, AgentVersion: simAgentVersion}
	reporter.SetInventory(simInventory())
	for _, r := range []interface{ Start(context.Context) error }{renewer, reporter} {
		go func() {
			if err := r.Start(f.ctx); err != nil && f.ctx.Err() == nil {
				f.failed(fmt.Errorf("member %s: %w", member, err))
			}
		}()
	}
	return &simSpoke{member: member, namespace: ns, c: c}, nil
}

// simInventory is one pool of three nodes with room for every service the
// bench creates.
func simInventory() inventory.Snapshot {
	return inventory.Snapshot{NodePools: []fleetv1alpha1.NodePool{{
		Name:      "default",
		NodeCount: 3,
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("48"),
			corev1.ResourceMemory: resource.MustParse("192Gi"),
			corev1.ResourcePods:   resource.MustParse("330"),
		},
	}}}
}

func (f *simFleet) work() {
	for {
		key, shutdown := f.queue.Get()
		if shutdown {
			return
		}
		requeue, err := f.answer(key)
		switch {
		case err != nil && f.ctx.Err() == nil:
			f.queue.AddRateLimited(key)
		case requeue > 0:
			f.queue.AddAfter(key, requeue)
		default:
			f.queue.Forget(key)
		}
		f.queue.Done(key)
	}
}

// answer writes one ServiceWork's status as the member's spoke would. It
// asks to be called again after requeue when its spoke has not started.
func (f *simFleet) answer(key types.NamespacedName) (requeue time.Duration, err error) {
	w := &fleetv1alpha1.ServiceWork{}
	if err := f.cache.Get(f.ctx, key, w); err != nil {
		return 0, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return 0, nil
	}
	f.mu.Lock()
	sp := f.spokes[key.Namespace]
	f.mu.Unlock()
	if sp == nil {
		return 200 * time.Millisecond, nil
	}
	st, err := sp.status(f.ctx, w)
	if err != nil {
		return 0, err
	}
	if apiequality.Semantic.DeepEqual(&w.Status, st) {
		return 0, nil
	}
	w.Status = *st
	if err := sp.c.Status().Update(f.ctx, w); err != nil {
		if !apierrors.IsConflict(err) {
			f.failed(fmt.Errorf("member %s: ServiceWork %s status: %w", sp.member, key, err))
		}
		return 0, err
	}
	return 0, nil
}

// status is the ServiceWork status berth-spoke writes once everything is
// applied and the engine reports ready. A provider whose consumer is in
// another cluster publishes its connection data; a consumer in another
// cluster is bound once the hub copied the provider's endpoint and
// credentials.
func (sp *simSpoke) status(ctx context.Context, w *fleetv1alpha1.ServiceWork) (*fleetv1alpha1.ServiceWorkStatus, error) {
	st := w.Status.DeepCopy()
	st.ObservedGeneration = w.Generation
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: w.Generation})
	}
	set(fleetv1alpha1.ConditionApplied, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "")
	provider := slices.Contains(w.Spec.Roles, fleetv1alpha1.RoleProvider)
	consumer := slices.Contains(w.Spec.Roles, fleetv1alpha1.RoleConsumer)
	var port int32
	if w.Spec.Service != nil {
		port = enginePorts[w.Spec.Service.Engine]
	}
	available, msg := true, ""
	if provider && w.Spec.Service != nil {
		st.ReadyReplicas = w.Spec.Service.Replicas
		set(fleetv1alpha1.ConditionDegraded, metav1.ConditionFalse, "AsExpected", "")
		if !consumer {
			st.Endpoint = &fleetv1alpha1.Endpoint{Host: "gateway." + sp.member + ".example", Port: port}
			if err := sp.publish(ctx, w, port); err != nil {
				return nil, err
			}
			st.CredentialsSecret = w.Name + ".published"
		}
	}
	if consumer {
		bound := provider
		if !provider && w.Spec.Provider != nil && w.Spec.Provider.Endpoint != nil && w.Spec.Provider.CredentialsSecret != "" {
			err := sp.c.Get(ctx, client.ObjectKey{Namespace: sp.namespace, Name: w.Spec.Provider.CredentialsSecret}, &corev1.Secret{})
			switch {
			case err == nil:
				bound, port = true, w.Spec.Provider.Endpoint.Port
			case !apierrors.IsNotFound(err):
				return nil, err
			}
		}
		if bound {
			st.Endpoint = &fleetv1alpha1.Endpoint{
				Host: render.BindingServiceName(w.Spec.ServiceRef), Port: port, SecretName: render.BindingSecretName(w.Spec.ServiceRef),
			}
		} else {
			st.Endpoint = nil
			available, msg = false, "Waiting for the provider's endpoint and credentials"
		}
	}
	if available {
		set(fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonEngineReady, "")
	} else {
		set(fleetv1alpha1.ConditionAvailable, metav1.ConditionFalse, fleetv1alpha1.ReasonEngineNotReady, msg)
	}
	return st, nil
}

// publish writes the provider's connection data to its hub namespace, as
// berth-spoke does for a remote consumer.
func (sp *simSpoke) publish(ctx context.Context, w *fleetv1alpha1.ServiceWork, port int32) error {
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: sp.namespace, Name: w.Name + ".published",
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(w.Spec.ServiceRef.Namespace, w.Spec.ServiceRef.Name),
			},
		},
		Data: map[string][]byte{
			"host":     []byte("gateway." + sp.member + ".example"),
			"port":     []byte(strconv.Itoa(int(port))),
			"username": []byte("app"),
			"password": []byte(hex.EncodeToString(pw)),
		},
	}
	if err := sp.c.Create(ctx, sec); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("publishing credentials: %w", err)
	}
	return nil
}
