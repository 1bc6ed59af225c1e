package work_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// startSpoke runs the ServiceWork controllers for hub namespace ns in a
// manager of their own, with empty caches, until the returned stop is
// called.
func startSpoke(t *testing.T, ns string, requests *counter) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := env.Config
	memberCfg := env.Config
	if requests != nil {
		cfg, memberCfg = requests.wrap(cfg), requests.wrap(memberCfg)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     env.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := addSpoke(ctx, mgr, ns, memberCfg); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Error(err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// TestRestartKeepsTheRecord stops a spoke after it converged and starts a
// new one with empty caches: the new one finds the record, applies nothing
// again, and deletes what the first one created, and only that.
func TestRestartKeepsTheRecord(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const ns = "berth-member-restart"
	ensureNamespace(g, ns)
	first := startSpoke(t, ns, nil)
	w := newProviderWork(g, ns, "restarted", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "restarted-app")
	g.Expect(k8sClient.Create(ctx, w)).To(Succeed())
	key := client.ObjectKeyFromObject(w)
	// Converged: applied with nothing pending (the binding Secret too).
	g.Eventually(func() string {
		c := meta.FindStatusCondition(getWork(g, key).Status.Conditions, fleetv1alpha1.ConditionApplied)
		if c == nil || c.Status != metav1.ConditionTrue {
			return "not applied"
		}
		return c.Message
	}, timeout, interval).Should(BeEmpty())
	before := record(g, w)
	g.Expect(before).NotTo(BeEmpty())
	first()

	// Between the two spokes the EndpointSlice controller labels a slice
	// like the binding Service.
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "restarted-app", Name: "restarted-abcde", Labels: map[string]string{
			fleetv1alpha1.LabelServiceWork: render.WorkLabelValue(w), discoveryv1.LabelServiceName: "restarted",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	g.Expect(k8sClient.Create(ctx, slice)).To(Succeed())

	requests := &counter{}
	second := startSpoke(t, ns, requests)
	defer second()
	// The new spoke reconciles the work (it writes nothing while converged)
	// and keeps the record as it was.
	g.Consistently(func(g Gomega) {
		g.Expect(record(g, w)).To(Equal(before))
	}, 3*testResync, interval).Should(Succeed())
	counts := requests.snapshot()
	t.Logf("Restarted spoke, first %s: %s", 3*testResync, format(counts))
	g.Expect(counts).NotTo(HaveKey("PATCH statefulsets"), "nothing is applied again")

	// Deletion through the new spoke removes what the record names.
	g.Expect(k8sClient.Delete(ctx, getWork(g, key))).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	for _, e := range before {
		if e.Kind == "StatefulSet" {
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, &appsv1.StatefulSet{}))).To(BeTrue())
		}
		if e.Kind == "Service" && e.Namespace == "restarted-app" {
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, &corev1.Service{}))).To(BeTrue())
		}
	}
	g.Expect(exists(slice)()).To(BeTrue(), "the slice was never berth's")
	expectNoRecord(g, w)
	releaseWork(g, key)
}
