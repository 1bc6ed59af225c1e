package operators

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newRedisFailover is a RedisFailover as the spoke renders it: persistent
// Redis, three sentinels, an auth Secret, the priority class and berth's
// labels.
func newRedisFailover(ns, name string, replicas int64, keep bool) *unstructured.Unstructured {
	res := map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]any{"cpu": "200m", "memory": "256Mi"}}
	return newResource(GVKRedisFailover, ns, name, berthLabels, map[string]any{
		"redis": map[string]any{
			"image": "redis:7.2-alpine", "replicas": replicas, "resources": res, "priorityClassName": priorityClass,
			"storage": map[string]any{
				"keepAfterDeletion": keep,
				"persistentVolumeClaim": map[string]any{
					"metadata": map[string]any{"name": "redisfailover-persistent-data"},
					"spec": map[string]any{
						"accessModes": []any{"ReadWriteOnce"},
						"resources":   map[string]any{"requests": map[string]any{"storage": "1Gi"}},
					},
				},
			},
		},
		"sentinel": map[string]any{"image": "redis:7.2-alpine", "replicas": int64(3), "resources": res, "priorityClassName": priorityClass},
		"auth":     map[string]any{"secretPath": name + "-auth"},
	})
}

// TestSpotahome drives RedisFailovers through the emulator: children with
// every label of the resource and a controller reference, the password from
// the auth Secret, role labels on the pods, no status, a resync wiping a
// label someone added, a too long name refused, and deletion by the
// garbage collector, PVCs included unless keepAfterDeletion.
func TestSpotahome(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	ns := testNamespace(t, "spotahome", Options{Operators: []Operator{Spotahome}, SpotahomeResync: 2 * time.Second})
	const name = "orders"
	auth := &corev1.Secret{ObjectMeta: key(ns, name+"-auth"), Data: map[string][]byte{"password": []byte("s3cret-redis")}}
	g.Expect(admin.Create(ctx, auth)).To(Succeed())
	rf := newRedisFailover(ns, name, 2, false)
	g.Expect(admin.Create(ctx, rf)).To(Succeed())

	start := time.Now()
	sts := &appsv1.StatefulSet{ObjectMeta: key(ns, "rfr-"+name)}
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(sts), sts)).To(Succeed())
		g.Expect(sts.Status.ReadyReplicas).To(BeEquivalentTo(2))
		pods := podsOf(ctx, g, ns, spotahomeSelector("redis", name))
		g.Expect(rolesOf(pods, SpotahomeRoleLabel)).To(Equal(map[string]int{"master": 1, "slave": 1}))
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())
	dep := &appsv1.Deployment{ObjectMeta: key(ns, "rfs-"+name)}
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(dep), dep)).To(Succeed())
		g.Expect(dep.Status.ReadyReplicas).To(BeEquivalentTo(3))
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())

	t.Logf("Redis and sentinels ready, pods labelled, after %s", time.Since(start).Round(100*time.Millisecond))
	rf, err := getResource(ctx, GVKRedisFailover, ns, name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rf.Object).NotTo(HaveKey("status"), "the operator writes no status")
	children := []client.Object{sts, dep,
		&corev1.Service{ObjectMeta: key(ns, "rfs-"+name)}, &corev1.Service{ObjectMeta: key(ns, "rfrm-"+name)}, &corev1.Service{ObjectMeta: key(ns, "rfrs-"+name)},
		&corev1.ConfigMap{ObjectMeta: key(ns, "rfs-"+name)}, &corev1.ConfigMap{ObjectMeta: key(ns, "rfr-"+name)},
		&corev1.ConfigMap{ObjectMeta: key(ns, "rfr-s-"+name)}, &corev1.ConfigMap{ObjectMeta: key(ns, "rfr-readiness-"+name)},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(ns, "rfr-"+name)}, &policyv1.PodDisruptionBudget{ObjectMeta: key(ns, "rfs-"+name)},
	}
	for _, obj := range children {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		expectBerthLabels(g, obj)
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "redis-operator"))
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue(SpotahomeNameLabel, name))
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/part-of", "redis-failover"))
		expectControlledBy(g, obj, rf)
	}
	redisConf := &corev1.ConfigMap{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rfr-" + name}, redisConf)).To(Succeed())
	g.Expect(redisConf.Data["redis.conf"]).To(ContainSubstring("requirepass s3cret-redis"))
	sentinel := &corev1.Service{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rfs-" + name}, sentinel)).To(Succeed())
	g.Expect(sentinel.Spec.Ports[0].Port).To(BeEquivalentTo(26379))
	for _, p := range podsOf(ctx, g, ns, map[string]string{SpotahomeNameLabel: name}) {
		expectBerthLabels(g, &p)
	}
	pvcs := []client.Object{
		&corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "redisfailover-persistent-data-rfr-"+name+"-0")},
		&corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "redisfailover-persistent-data-rfr-"+name+"-1")},
	}
	for _, pvc := range pvcs {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
		g.Expect(pvc.GetOwnerReferences()).To(ContainElement(HaveField("UID", rf.GetUID())), "the claim template carries the owner reference")
	}

	// A resync replaces the Service, dropping a label someone else added.
	sentinel.Labels["added-by"] = "someone-else"
	g.Expect(admin.Update(ctx, sentinel)).To(Succeed())
	start = time.Now()
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(sentinel), sentinel)).To(Succeed())
		g.Expect(sentinel.Labels).NotTo(HaveKey("added-by"))
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())
	t.Logf("Added label wiped by a resync after %s", time.Since(start).Round(100*time.Millisecond))

	// A name over 48 characters is refused: nothing is made for it.
	long := strings.Repeat("r", SpotahomeMaxNameLength+1)
	g.Expect(admin.Create(ctx, newRedisFailover(ns, long, 1, false))).To(Succeed())
	g.Consistently(func(g Gomega) {
		cms := &corev1.ConfigMapList{}
		g.Expect(admin.List(ctx, cms, client.InNamespace(ns), client.MatchingLabels{SpotahomeNameLabel: long})).To(Succeed())
		g.Expect(cms.Items).To(BeEmpty())
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())

	// keepAfterDeletion: the claim template has no owner reference.
	auth2 := &corev1.Secret{ObjectMeta: key(ns, "kept-auth"), Data: map[string][]byte{"password": []byte("other")}}
	g.Expect(admin.Create(ctx, auth2)).To(Succeed())
	kept := newRedisFailover(ns, "kept", 1, true)
	g.Expect(admin.Create(ctx, kept)).To(Succeed())
	keptPVC := &corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "redisfailover-persistent-data-rfr-kept-0")}
	g.Eventually(func() error { return admin.Get(ctx, client.ObjectKeyFromObject(keptPVC), keptPVC) }, waitTimeout, 250*time.Millisecond).Should(Succeed())
	g.Expect(keptPVC.OwnerReferences).To(BeEmpty())

	// Deletion: no finalizer, the garbage collector removes every child
	// and the PVCs owned through the claim template; the kept PVC stays.
	g.Expect(admin.Delete(ctx, rf)).To(Succeed())
	g.Expect(admin.Delete(ctx, kept)).To(Succeed())
	start = time.Now()
	for _, obj := range append(children, pvcs...) {
		g.Eventually(gone(ctx, obj), waitTimeout, 250*time.Millisecond).Should(Succeed())
	}
	t.Logf("Children and PVCs garbage-collected after %s", time.Since(start).Round(100*time.Millisecond))
	g.Eventually(gone(ctx, &appsv1.StatefulSet{ObjectMeta: key(ns, "rfr-kept")}), waitTimeout, 250*time.Millisecond).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(keptPVC), keptPVC)).To(Succeed())
		g.Expect(keptPVC.DeletionTimestamp).To(BeNil())
	}, 2*time.Second, 250*time.Millisecond).Should(Succeed())
}
