package work

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	wq "k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

var (
	gvkNamespace     = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	gvkService       = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	gvkSecret        = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	gvkConfigMap     = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	gvkStatefulSet   = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	gvkDeployment    = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	gvkPVC           = schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	gvkRole          = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}
	gvkRoleBinding   = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"}
	gvkPriorityClass = schema.GroupVersionKind{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass"}
)

// renderedKinds are the built-in kinds the renderer produces; their changes
// are watched for drift.
var renderedKinds = []schema.GroupVersionKind{
	gvkNamespace, gvkService, gvkSecret, gvkConfigMap,
	{Version: "v1", Kind: "ResourceQuota"}, {Version: "v1", Kind: "LimitRange"},
	gvkStatefulSet, {Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}, gvkRole, gvkRoleBinding,
	{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"}, gvkPriorityClass,
}

// optionalKind is a kind served only when an operator (or Cilium) is
// installed; it is watched from the moment the capabilities report it.
type optionalKind struct {
	gvk schema.GroupVersionKind
	// installed reports whether the capabilities say the kind is served.
	installed func(fleetv1alpha1.Capabilities) bool
	// engine marks the engine resources, whose status the status
	// controller reads.
	engine bool
}

func hasOperator(op fleetv1alpha1.Operator) func(fleetv1alpha1.Capabilities) bool {
	return func(c fleetv1alpha1.Capabilities) bool {
		for _, o := range c.Operators {
			if o == op {
				return true
			}
		}
		return false
	}
}

var optionalKinds = []optionalKind{
	{gvk: render.GVKPostgresql, installed: hasOperator(fleetv1alpha1.OperatorZalandoPostgres), engine: true},
	{gvk: render.GVKRedisFailover, installed: hasOperator(fleetv1alpha1.OperatorSpotahomeRedis), engine: true},
	{gvk: render.GVKRabbitmqCluster, installed: hasOperator(fleetv1alpha1.OperatorRabbitMQ), engine: true},
	{gvk: gvkDeployment, installed: hasOperator(fleetv1alpha1.OperatorSpotahomeRedis)}, // rfs-<name>, status only
	{gvk: render.GVKCiliumNetworkPolicy, installed: func(c fleetv1alpha1.Capabilities) bool { return c.Cilium }},
}

// engineKinds are the engine resources (and the built-in StatefulSet):
// what Retain orphans with its data.
var engineKinds = map[schema.GroupKind]bool{
	render.GVKPostgresql.GroupKind(): true, render.GVKRedisFailover.GroupKind(): true,
	render.GVKRabbitmqCluster.GroupKind(): true, gvkStatefulSet.GroupKind(): true,
}

// statusKinds are the built-in kinds whose status feeds the serving status.
var statusKinds = map[schema.GroupVersionKind]bool{
	gvkStatefulSet: true, gvkDeployment: true, gvkService: true, gvkSecret: true,
}

func newObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// worksFor maps a member object to the works it belongs to: by its own
// servicework label, else by the servicework label of its namespace (the
// Zalando operator's children carry none of berth's labels).
func (b *base) worksFor(ctx context.Context, o client.Object) []reconcile.Request {
	value := o.GetLabels()[fleetv1alpha1.LabelServiceWork]
	if value == "" && o.GetNamespace() != "" {
		ns := newObject(gvkNamespace)
		if err := b.memberCache.Get(ctx, client.ObjectKey{Name: o.GetNamespace()}, ns); err == nil {
			value = ns.GetLabels()[fleetv1alpha1.LabelServiceWork]
		}
	}
	if value == "" {
		return nil
	}
	return b.worksWithLabel(ctx, value)
}

// worksWithLabel returns the work of this hub namespace whose
// WorkLabelValue is value, as the reconcilers noted it.
func (b *base) worksWithLabel(_ context.Context, value string) []reconcile.Request {
	w, ok := b.index.work(value)
	if !ok || w.Namespace != b.HubNamespace {
		return nil
	}
	return []reconcile.Request{{NamespacedName: w}}
}

// recordedBy returns the record entries naming o, and their works.
func (b *base) recordedBy(_ context.Context, o client.Object, gvk schema.GroupVersionKind) ([]Entry, []reconcile.Request) {
	return b.index.recordedBy(objectKey(gvk, o.GetNamespace(), o.GetName()))
}

// recordHandler maps member events on recorded objects to their works: a
// deletion, an object recreated with another UID, or a change of the fields
// the spoke owns that its record does not know (drift). The spoke's own
// applies leave the owned fields as recorded, and status updates do not
// touch them, so neither wakes the work.
func (b *base) recordHandler(gvk schema.GroupVersionKind) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue) {
			entries, reqs := b.recordedBy(ctx, e.Object, gvk)
			for i, en := range entries {
				if en.UID != e.Object.GetUID() {
					q.Add(reqs[i])
				}
			}
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue) {
			u, ok := e.ObjectNew.(*unstructured.Unstructured)
			if !ok {
				return
			}
			entries, reqs := b.recordedBy(ctx, u, gvk)
			for i, en := range entries {
				if en.UID != u.GetUID() || (!en.Shared && en.Fields != fieldsHash(u)) ||
					(e.ObjectOld.GetDeletionTimestamp() == nil && u.GetDeletionTimestamp() != nil) {
					q.Add(reqs[i])
				}
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue) {
			_, reqs := b.recordedBy(ctx, e.Object, gvk)
			for _, r := range reqs {
				q.Add(r)
			}
		},
	}
}

// workqueue is the queue event handlers add to.
type workqueue = wq.TypedRateLimitingInterface[reconcile.Request]

// secretDataHandler maps created, deleted or re-keyed Secrets to their
// works: the credentials a binding is rendered from.
func (b *base) secretDataHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue) { addAll(q, b.worksFor(ctx, e.Object)) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue) {
			if !equality.Semantic.DeepEqual(dataOf(e.ObjectOld), dataOf(e.ObjectNew)) {
				addAll(q, b.worksFor(ctx, e.ObjectNew))
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue) { addAll(q, b.worksFor(ctx, e.Object)) },
	}
}

// statusHandler maps changes that can change a work's serving status to
// the work: creation and deletion, and updates of status, spec (generation),
// data or deletion state. Updates that only touch metadata the status does
// not read (resourceVersion, managedFields, labels and annotations) are
// dropped.
func (b *base) statusHandler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue) { addAll(q, b.worksFor(ctx, e.Object)) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue) {
			if statusRelevantChange(e.ObjectOld, e.ObjectNew) {
				addAll(q, b.worksFor(ctx, e.ObjectNew))
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue) { addAll(q, b.worksFor(ctx, e.Object)) },
	}
}

func addAll(q workqueue, reqs []reconcile.Request) {
	for _, r := range reqs {
		q.Add(r)
	}
}

// dataOf is the data of a Secret, nil for anything else.
func dataOf(o client.Object) any {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.Object["data"]
	}
	return nil
}

// statusRelevantChange reports whether an update changed what the status
// controller reads: status, generation, Secret data, Service spec (the
// exposure's node port) or the deletion state.
func statusRelevantChange(oldObj, newObj client.Object) bool {
	o, ok1 := oldObj.(*unstructured.Unstructured)
	n, ok2 := newObj.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return true
	}
	if o.GetGeneration() != n.GetGeneration() || (o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil) {
		return true
	}
	for _, field := range []string{"status", "data", "spec"} {
		if !reflect.DeepEqual(o.Object[field], n.Object[field]) {
			return true
		}
	}
	return false
}

// applyWorkPredicate passes work changes the apply controller acts on: a
// new work, a spec change (generation), an annotation change (annotations
// feed the render) and the start of a deletion (the apply controller then
// stops). Status writes, its own included, are dropped.
func applyWorkPredicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
				!equality.Semantic.DeepEqual(e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations())
		},
	}
}

// statusWorkPredicate passes what the status controller acts on: a new
// work, a spec or annotation change, and a change of the Applied condition
// (Available requires Applied) written by the apply controller.
func statusWorkPredicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*fleetv1alpha1.ServiceWork)
			n, ok2 := e.ObjectNew.(*fleetv1alpha1.ServiceWork)
			if !ok1 || !ok2 {
				return true
			}
			return o.Generation != n.Generation || !equality.Semantic.DeepEqual(o.Annotations, n.Annotations) ||
				appliedStatus(o) != appliedStatus(n)
		},
	}
}

func appliedStatus(w *fleetv1alpha1.ServiceWork) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionApplied); c != nil {
		return c.Status
	}
	return ""
}

// finalizeWorkPredicate passes works being deleted: the start of the
// deletion and later spec changes. The finalize controller's own status
// writes are dropped; deletions of recorded objects wake it instead.
func finalizeWorkPredicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return e.Object.GetDeletionTimestamp() != nil },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectNew.GetDeletionTimestamp() == nil {
				return false
			}
			return e.ObjectOld.GetDeletionTimestamp() == nil || e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration()
		},
	}
}

func builderPredicates(p predicate.Predicate) builder.ForOption { return builder.WithPredicates(p) }

// hubSecretSource watches the Secrets of the hub namespace whose data
// changes or that are deleted, mapped to works by mapFn.
func (b *base) hubSecretSource(mgr ctrl.Manager, mapFn func(context.Context, *corev1.Secret) []reconcile.Request) source.Source {
	h := handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, s *corev1.Secret) []reconcile.Request { return mapFn(ctx, s) })
	p := predicate.TypedFuncs[*corev1.Secret]{
		CreateFunc: func(event.TypedCreateEvent[*corev1.Secret]) bool { return true },
		DeleteFunc: func(event.TypedDeleteEvent[*corev1.Secret]) bool { return true },
		UpdateFunc: func(e event.TypedUpdateEvent[*corev1.Secret]) bool {
			return !equality.Semantic.DeepEqual(e.ObjectOld.Data, e.ObjectNew.Data)
		},
		GenericFunc: func(event.TypedGenericEvent[*corev1.Secret]) bool { return false },
	}
	return source.Kind(mgr.GetCache(), &corev1.Secret{}, h, p)
}

// consumersOfSecret maps a hub Secret to the consumer works binding from it.
func (b *base) consumersOfSecret(_ context.Context, s *corev1.Secret) []reconcile.Request {
	if s.Namespace != b.HubNamespace {
		return nil
	}
	return b.index.secretUsers(s.Name)
}

// publisherOfSecret maps a published Secret to the work publishing it.
func (b *base) publisherOfSecret(_ context.Context, s *corev1.Secret) []reconcile.Request {
	name, ok := strings.CutSuffix(s.Name, publishedSuffix)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: name}}}
}

// controllers are the three ServiceWork controllers.
type controllers struct {
	apply, status, finalize controller.Controller
}

// watchSet starts the member watches: the built-in kinds at setup, the
// operator and Cilium kinds once the capabilities report them.
type watchSet struct {
	b           *base
	controllers controllers
	mu          sync.Mutex
	started     map[schema.GroupVersionKind]bool
}

func newWatchSet(b *base) *watchSet {
	return &watchSet{b: b, started: map[schema.GroupVersionKind]bool{}}
}

// watch adds the watches of one kind to the controllers.
func (s *watchSet) watch(gvk schema.GroupVersionKind, c cache.Cache, recorded, status bool) error {
	b := s.b
	if recorded {
		if err := s.controllers.apply.Watch(source.Kind[client.Object](c, newObject(gvk), b.recordHandler(gvk))); err != nil {
			return err
		}
		if err := s.controllers.finalize.Watch(source.Kind[client.Object](c, newObject(gvk), b.recordHandler(gvk))); err != nil {
			return err
		}
	}
	if gvk == gvkSecret {
		if err := s.controllers.apply.Watch(source.Kind[client.Object](c, newObject(gvk), b.secretDataHandler())); err != nil {
			return err
		}
	}
	if status {
		if err := s.controllers.status.Watch(source.Kind[client.Object](c, newObject(gvk), b.statusHandler())); err != nil {
			return err
		}
	}
	return nil
}

// startStatic adds the watches of the built-in kinds and of the Zalando
// children cache.
func (s *watchSet) startStatic() error {
	for _, gvk := range renderedKinds {
		if err := s.watch(gvk, s.b.memberCache, true, statusKinds[gvk]); err != nil {
			return fmt.Errorf("work: watching %s: %w", gvk.Kind, err)
		}
	}
	return nil
}

// ensure starts the watches of the optional kinds the capabilities report
// and that are not watched yet. A kind stays unwatched while the cluster
// does not serve it.
func (s *watchSet) ensure(ctx context.Context, caps fleetv1alpha1.Capabilities) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range optionalKinds {
		if s.started[k.gvk] || !k.installed(caps) {
			continue
		}
		if _, err := s.b.MemberCluster.GetRESTMapper().RESTMapping(k.gvk.GroupKind(), k.gvk.Version); err != nil {
			ctrl.LoggerFrom(ctx).Info("Not watching a kind the cluster does not serve yet", "kind", k.gvk.String(), "reason", err.Error())
			continue
		}
		recorded := k.gvk != gvkDeployment
		if err := s.watch(k.gvk, s.b.memberCache, recorded, k.engine || k.gvk == gvkDeployment); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Watching a kind", "kind", k.gvk.String())
			continue
		}
		if k.gvk == render.GVKPostgresql {
			// The operator's StatefulSet and credentials Secrets.
			for _, gvk := range []schema.GroupVersionKind{gvkStatefulSet, gvkSecret} {
				if err := s.watch(gvk, s.b.operatorCache, false, true); err != nil {
					ctrl.LoggerFrom(ctx).Error(err, "Watching Zalando children", "kind", gvk.String())
				}
			}
		}
		s.started[k.gvk] = true
	}
}

// zalando reports whether the Zalando operator's children are watched (and
// so may be read from the operator children cache).
func (s *watchSet) zalando() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started[render.GVKPostgresql]
}

// allWorksSource enqueues every work of the hub namespace each time signal
// fires.
type allWorksSource struct {
	b      *base
	signal <-chan struct{}
}

// Start implements source.Source.
func (s *allWorksSource) Start(ctx context.Context, q workqueue) error {
	if s.signal == nil {
		return nil
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.signal:
				works := &fleetv1alpha1.ServiceWorkList{}
				if err := s.b.Hub.List(ctx, works, client.InNamespace(s.b.HubNamespace)); err != nil {
					ctrl.LoggerFrom(ctx).Error(err, "Listing ServiceWorks after an inventory change")
					continue
				}
				for i := range works.Items {
					q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&works.Items[i])})
				}
			}
		}
	}()
	return nil
}

// String names the source in logs.
func (s *allWorksSource) String() string { return "inventory changes" }
