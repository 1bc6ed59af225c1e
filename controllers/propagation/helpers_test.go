package propagation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/apimetrics"
	placementctrl "github.com/berth-io/berth/controllers/placement"
	berthplacement "github.com/berth-io/berth/placement"
	ptesting "github.com/berth-io/berth/placement/testing"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// newService creates a ManagedService without status.
func newService(t *testing.T, g Gomega, name, consumer string) *fleetv1alpha1.ManagedService {
	t.Helper()
	ensureNamespace(t, "team")
	ensureNamespace(t, fleetv1alpha1.MemberNamespace(consumer))
	ms := &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec: fleetv1alpha1.ManagedServiceSpec{
			Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 1,
			Storage:  fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: consumer, Namespaces: []string{"shop"}},
		},
	}
	g.Expect(k8sClient.Create(context.Background(), ms)).To(Succeed())
	return ms
}

// placedService creates a ManagedService and marks it placed on cluster, as
// the placement controller would.
func placedService(t *testing.T, g Gomega, name, consumer, cluster string) *fleetv1alpha1.ManagedService {
	t.Helper()
	ms := newService(t, g, name, consumer)
	place(t, g, ms, cluster)
	return ms
}

// place writes the decision into status, as the placement controller would.
func place(t *testing.T, g Gomega, ms *fleetv1alpha1.ManagedService, cluster string) {
	t.Helper()
	ensureNamespace(t, fleetv1alpha1.MemberNamespace(cluster))
	updateStatus(g, ms, func(ms *fleetv1alpha1.ManagedService) {
		ms.Status.Placement.Cluster = cluster
		meta.SetStatusCondition(&ms.Status.Conditions, metav1.Condition{
			Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled,
		})
	})
}

// updateStatus changes a ManagedService's status with an update.
func updateStatus(g Gomega, ms *fleetv1alpha1.ManagedService, mutate func(*fleetv1alpha1.ManagedService)) {
	ctx := context.Background()
	g.Eventually(func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), ms); err != nil {
			return err
		}
		mutate(ms)
		return k8sClient.Status().Update(ctx, ms)
	}, timeout, interval).Should(Succeed())
}

// acceptMove sets (or, with an empty value, removes) the accept-move
// annotation of a ManagedService.
func acceptMove(g Gomega, ms *fleetv1alpha1.ManagedService, value string) {
	key := fleetv1alpha1.AnnotationAcceptMove
	ctx := context.Background()
	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &fleetv1alpha1.ManagedService{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ms), cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		if value == "" {
			delete(cur.Annotations, key)
		} else {
			cur.Annotations[key] = value
		}
		return k8sClient.Update(ctx, cur)
	})).To(Succeed())
}

// workKey names the ServiceWork of service team/name in member's namespace.
func workKey(member, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: fleetv1alpha1.MemberNamespace(member), Name: "team." + name}
}

// getWork reads a ServiceWork, failing the assertion when it is missing.
func getWork(g Gomega, key client.ObjectKey) *fleetv1alpha1.ServiceWork {
	w := &fleetv1alpha1.ServiceWork{}
	g.Expect(k8sClient.Get(context.Background(), key, w)).To(Succeed())
	return w
}

// spokeReports writes a ServiceWork's status as its spoke would, after
// applying it at its current generation.
func spokeReports(g Gomega, key client.ObjectKey, mutate func(*fleetv1alpha1.ServiceWork)) {
	ctx := context.Background()
	g.Eventually(func() error {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(ctx, key, w); err != nil {
			return err
		}
		w.Status.ObservedGeneration = w.Generation
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionApplied, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied})
		mutate(w)
		return k8sClient.Status().Update(ctx, w)
	}, timeout, interval).Should(Succeed())
}

// reportProvider reports an Available provider: a co-located one binds its
// consumers itself, a remote one publishes its endpoint and credentials.
func reportProvider(g Gomega, key client.ObjectKey, host string) {
	ctx := context.Background()
	w := getWork(g, key)
	colocated := len(w.Spec.Roles) == 2
	if !colocated {
		published := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name + ".published",
				Labels: map[string]string{fleetv1alpha1.LabelManagedService: key.Name}},
			Data: map[string][]byte{"password": []byte("pw-" + host)},
		}
		if err := k8sClient.Create(ctx, published); err != nil && !apierrors.IsAlreadyExists(err) {
			g.Expect(err).NotTo(HaveOccurred())
		}
	}
	spokeReports(g, key, func(w *fleetv1alpha1.ServiceWork) {
		w.Status.ReadyReplicas = 1
		if colocated {
			w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "binding", Port: 6379, SecretName: "binding-credentials"}
		} else {
			w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: host, Port: 30079}
			w.Status.CredentialsSecret = key.Name + ".published"
		}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
	})
}

// reportConsumer reports a bound consumer work.
func reportConsumer(g Gomega, key client.ObjectKey) {
	spokeReports(g, key, func(w *fleetv1alpha1.ServiceWork) {
		w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "binding", Port: 6379, SecretName: "binding-credentials"}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
	})
}

// spokeRemoved reports, as the spoke would, that it removed what it rendered.
func spokeRemoved(g Gomega, key client.ObjectKey) {
	ctx := context.Background()
	g.Eventually(func() error {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(ctx, key, w); err != nil {
			return err
		}
		meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionRemoved, Status: metav1.ConditionTrue, Reason: "Cleaned"})
		return k8sClient.Status().Update(ctx, w)
	}, timeout, interval).Should(Succeed())
}

func condition(ms *fleetv1alpha1.ManagedService, t string) metav1.ConditionStatus {
	c := meta.FindStatusCondition(ms.Status.Conditions, t)
	if c == nil {
		return ""
	}
	return c.Status
}

// moving returns the Moving condition, or an empty one.
func moving(ms *fleetv1alpha1.ManagedService) metav1.Condition {
	if c := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionMoving); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// eventuallyMoving waits for the Moving condition's reason and returns it.
func eventuallyMoving(t *testing.T, ms *fleetv1alpha1.ManagedService, reason string) metav1.Condition {
	t.Helper()
	var c metav1.Condition
	NewWithT(t).Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		c = moving(cur)
		g.Expect(c.Reason).To(Equal(reason), "Moving: %+v", c)
	}, timeout, interval).Should(Succeed())
	return c
}

// eventuallyReady waits until the service is Ready.
func eventuallyReady(t *testing.T, ms *fleetv1alpha1.ManagedService) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		cur := &fleetv1alpha1.ManagedService{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(ms), cur)).To(Succeed())
		g.Expect(condition(cur, fleetv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue), "%+v", cur.Status.Conditions)
	}, timeout, interval).Should(Succeed())
}

// eventuallyEvent waits for an Event about ms whose reason and note contain
// the parts.
func eventuallyEvent(t *testing.T, ms *fleetv1alpha1.ManagedService, reason string, parts ...string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ms.Namespace))).To(Succeed())
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != ms.Name || e.Regarding.Kind != "ManagedService" {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			all := e.Reason == reason
			for _, p := range parts {
				all = all && strings.Contains(e.Note, p)
			}
			if all {
				return
			}
		}
		g.Expect(seen).To(ContainElement(HavePrefix(reason)), "no %s event with %q", reason, parts)
	}, timeout, interval).Should(Succeed())
}

// workState is what must not change about a ServiceWork.
type workState struct {
	UID             string
	ResourceVersion string
	Deleting        bool
}

// snapshotWorks records the state of every ServiceWork of team/name.
func snapshotWorks(g Gomega, name string) map[string]workState {
	list := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(k8sClient.List(context.Background(), list, client.MatchingLabels{fleetv1alpha1.LabelManagedService: "team." + name})).To(Succeed())
	out := map[string]workState{}
	for _, w := range list.Items {
		out[w.Namespace] = workState{UID: string(w.UID), ResourceVersion: w.ResourceVersion, Deleting: w.DeletionTimestamp != nil}
	}
	return out
}

// createMember creates a MemberCluster with its status.
func createMember(t *testing.T, b *ptesting.MemberBuilder) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	want := b.Build()
	mc := want.DeepCopy()
	mc.Status = fleetv1alpha1.MemberClusterStatus{}
	g.Expect(k8sClient.Create(ctx, mc)).To(Succeed())
	mc.Status = want.Status
	g.Expect(k8sClient.Status().Update(ctx, mc)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, mc) })
}

// startPlacement runs the placement controller, in a manager of its own,
// until the test ends.
func startPlacement(t *testing.T, refresh time.Duration) {
	t.Helper()
	g := NewWithT(t)
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	g.Expect(err).NotTo(HaveOccurred())
	placer, err := berthplacement.NewPlacer(nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect((&placementctrl.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("berth-placement"), Placer: placer, RefreshInterval: refresh,
	}).SetupWithManager(mgr)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("placement manager: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// mutatingRequests scrapes the envtest apiserver's mutating requests.
func mutatingRequests(g Gomega) apimetrics.Counts {
	c, err := apimetrics.Mutating(context.Background(), env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// reconciles is how many times the named controller of this process
// reconciled, from controller-runtime's metrics.
func reconciles(g Gomega, controller string) float64 {
	mfs, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
