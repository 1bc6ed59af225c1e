//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/spoke/render"
)

// TestCAPIClusterDeletionDrainsAndRetains runs last (it removes
// workload-2): deleting the CAPI Cluster leaves the member draining while
// services live there; deleting them with Retain keeps their data; then the
// member goes.
func TestCAPIClusterDeletionDrainsAndRetains(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	w2 := env.Members["workload-2"].Client
	ms := service("drained", fleetv1alpha1.EnginePostgreSQL, "16", "workload-2", fleetv1alpha1.StrategyWorkload, "cart")
	g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	waitReady(t, g, ms)
	pns := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "team", Name: "drained"})
	pvcs := &corev1.PersistentVolumeClaimList{}
	g.Eventually(func() int {
		_ = w2.List(ctx, pvcs, client.InNamespace(pns))
		return len(pvcs.Items)
	}, time.Minute, poll).Should(BeNumerically(">", 0))

	capi := &clusterv1.Cluster{}
	g.Expect(env.Hub.Get(ctx, client.ObjectKey{Namespace: framework.DevCAPINamespace, Name: "workload-2"}, capi)).To(Succeed())
	g.Expect(env.Hub.Delete(ctx, capi)).To(Succeed())
	mc := &fleetv1alpha1.MemberCluster{}
	g.Eventually(func() bool {
		_ = env.Hub.Get(ctx, clientKey("workload-2"), mc)
		return mc.DeletionTimestamp != nil
	}, time.Minute, poll).Should(BeTrue())
	g.Consistently(func() error { return env.Hub.Get(ctx, clientKey("workload-2"), mc) }, 5*time.Second, poll).
		Should(Succeed(), "the member stays while a ServiceWork lives in its namespace")

	// Draining is the owners' move: every service with a ServiceWork on the
	// member (this test's and those the earlier tests left there) is
	// deleted, and only then does the member go.
	works := &fleetv1alpha1.ServiceWorkList{}
	g.Expect(env.Hub.List(ctx, works, client.InNamespace(fleetv1alpha1.MemberNamespace("workload-2")))).To(Succeed())
	owners := map[client.ObjectKey]bool{client.ObjectKeyFromObject(ms): true}
	for _, w := range works.Items {
		owners[client.ObjectKey{Namespace: w.Spec.ServiceRef.Namespace, Name: w.Spec.ServiceRef.Name}] = true
	}
	t.Logf("Deleting the %d services with ServiceWorks on workload-2", len(owners))
	for key := range owners {
		g.Expect(client.IgnoreNotFound(env.Hub.Delete(ctx, &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}))).To(Succeed())
	}
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Hub.Get(ctx, client.ObjectKeyFromObject(ms), ms))
	}, readyTimeout, poll).Should(BeTrue())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Hub.Get(ctx, clientKey("workload-2"), mc))
	}, readyTimeout, poll).Should(BeTrue(), "the drained member is deleted")

	// Retain kept the volumes and the credentials in the workload cluster.
	g.Expect(w2.List(ctx, pvcs, client.InNamespace(pns))).To(Succeed())
	g.Expect(pvcs.Items).NotTo(BeEmpty())
	for _, pvc := range pvcs.Items {
		g.Expect(pvc.Labels).To(HaveKeyWithValue(fleetv1alpha1.LabelRetained, "true"), pvc.Name)
		g.Expect(pvc.DeletionTimestamp).To(BeNil())
	}
	sec := &corev1.Secret{}
	g.Expect(w2.Get(ctx, render.GeneratedSecretName(fleetv1alpha1.ServiceReference{Namespace: "team", Name: "drained"}), sec)).To(Succeed())
	g.Expect(sec.Labels).To(HaveKeyWithValue(fleetv1alpha1.LabelRetained, "true"))
}
