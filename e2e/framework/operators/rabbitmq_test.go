package operators

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newRabbitmqCluster is a RabbitmqCluster as the spoke renders it: the
// image, resources, ClusterIP Service, persistence, the priority class
// through the StatefulSet override, berth's labels and one
// app.kubernetes.io label the operator must not copy.
func newRabbitmqCluster(ns, name, image string) *unstructured.Unstructured {
	labels := mergeLabels(berthLabels, map[string]string{"app.kubernetes.io/instance": "shop"})
	return newResource(GVKRabbitmqCluster, ns, name, labels, map[string]any{
		"replicas": int64(1),
		"image":    image,
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "512Mi"},
			"limits":   map[string]any{"cpu": "500m", "memory": "512Mi"},
		},
		"service":     map[string]any{"type": "ClusterIP"},
		"persistence": map[string]any{"storage": "1Gi"},
		"override": map[string]any{"statefulSet": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{}, "priorityClassName": priorityClass,
		}}}}},
	})
}

// conditionsOf returns status.conditions by type as type: status.
func conditionsOf(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for t, c := range rabbitmqConditions(u) {
		out[t] = string(c.Status)
	}
	return out
}

// TestRabbitMQ drives RabbitmqClusters through the emulator: finalizer,
// children with controller references and the resource's labels except
// app.kubernetes.io/*, pods and PVCs with the app labels only, a reset of a
// label someone added, the four conditions with ReconcileSuccess and
// observedGeneration once ready, the default user Secret (kept when it
// existed), and a deletion in which the real StatefulSet controller deletes
// the PVC.
func TestRabbitMQ(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	ns := testNamespace(t, "rabbitmq", Options{Operators: []Operator{RabbitMQ}, RabbitMQRequeue: time.Second})
	const name = "events"
	rmq := newRabbitmqCluster(ns, name, "rabbitmq:3.13-management")
	g.Expect(admin.Create(ctx, rmq)).To(Succeed())
	// A default user Secret made beforehand keeps its credentials.
	preset := &corev1.Secret{ObjectMeta: key(ns, "preset-default-user"), Data: map[string][]byte{"username": []byte("me"), "password": []byte("mine")}}
	g.Expect(admin.Create(ctx, preset)).To(Succeed())
	g.Expect(admin.Create(ctx, newRabbitmqCluster(ns, "preset", "rabbitmq:4.1-management"))).To(Succeed())

	start := time.Now()
	g.Eventually(func(g Gomega) {
		u, err := getResource(ctx, GVKRabbitmqCluster, ns, name)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conditionsOf(u)).To(Equal(map[string]string{
			RabbitMQAllReplicasReady: "True", RabbitMQClusterAvailable: "True", RabbitMQNoWarnings: "True", RabbitMQReconcileSuccess: "True",
		}))
		gen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		g.Expect(gen).To(Equal(u.GetGeneration()))
		rmq = u
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())
	t.Logf("RabbitmqCluster ready after %s", time.Since(start).Round(100*time.Millisecond))
	g.Expect(rmq.GetFinalizers()).To(ContainElement(RabbitMQFinalizer))
	g.Expect(rmq.GetAnnotations()).To(HaveKeyWithValue(RabbitMQVersionAnnotation, "3.13"))
	secretName, _, _ := unstructured.NestedString(rmq.Object, "status", "defaultUser", "secretReference", "name")
	g.Expect(secretName).To(Equal(name + "-default-user"))

	sts := &appsv1.StatefulSet{ObjectMeta: key(ns, name+"-server")}
	children := []client.Object{sts,
		&corev1.Service{ObjectMeta: key(ns, name)}, &corev1.Service{ObjectMeta: key(ns, name+"-nodes")},
		&corev1.Secret{ObjectMeta: key(ns, name+"-default-user")}, &corev1.Secret{ObjectMeta: key(ns, name+"-erlang-cookie")},
		&corev1.ConfigMap{ObjectMeta: key(ns, name+"-server-conf")}, &corev1.ConfigMap{ObjectMeta: key(ns, name+"-plugins-conf")},
		&corev1.ServiceAccount{ObjectMeta: key(ns, name+"-server")},
		&rbacv1.Role{ObjectMeta: key(ns, name+"-peer-discovery")}, &rbacv1.RoleBinding{ObjectMeta: key(ns, name+"-server")},
	}
	for _, obj := range children {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		expectBerthLabels(g, obj)
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/name", name))
		g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/part-of", "rabbitmq"))
		g.Expect(obj.GetLabels()).NotTo(HaveKey("app.kubernetes.io/instance"))
		expectControlledBy(g, obj, rmq)
	}
	g.Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted).To(Equal(appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
	g.Expect(sts.Spec.Template.Spec.PriorityClassName).To(Equal(priorityClass), "spec.override is merged into the pod template")
	user := children[3].(*corev1.Secret)
	for _, k := range []string{"username", "password", "host", "port", "connection_string", "default_user.conf", "provider", "type"} {
		g.Expect(user.Data).To(HaveKey(k))
	}
	g.Expect(string(user.Data["host"])).To(Equal(name + "." + ns + ".svc"))
	appLabels := rabbitmqAppLabels(name)
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "persistence-"+name+"-server-0")}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
	g.Expect(pvc.Labels).To(Equal(appLabels))
	g.Expect(pvc.OwnerReferences).NotTo(ContainElement(HaveField("UID", rmq.GetUID())), "no owner reference to the cluster on PVCs")
	for _, p := range podsOf(ctx, g, ns, map[string]string{"app.kubernetes.io/name": name}) {
		for k := range p.Labels {
			g.Expect(k).To(Or(BeKeyOf(appLabels), Equal("controller-revision-hash"), Equal("statefulset.kubernetes.io/pod-name"), Equal("apps.kubernetes.io/pod-index")))
		}
	}

	// Labels are reset on the next reconcile.
	svc := children[1].(*corev1.Service)
	svc.Labels["added-by"] = "someone-else"
	g.Expect(admin.Update(ctx, svc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
		g.Expect(svc.Labels).NotTo(HaveKey("added-by"))
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())

	// The pre-existing default user Secret keeps its credentials; 4.1
	// needs no peer discovery Role once its version is known.
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(preset), preset)).To(Succeed())
		g.Expect(preset.Labels).To(HaveKeyWithValue("app.kubernetes.io/name", "preset"))
		g.Expect(preset.Data).To(HaveKeyWithValue("port", []byte("5672")))
	}, waitTimeout, 250*time.Millisecond).Should(Succeed())
	g.Expect(string(preset.Data["username"]) + ":" + string(preset.Data["password"])).To(Equal("me:mine"))

	// Deletion: the finalizer goes, the garbage collector deletes the
	// children and the StatefulSet controller the PVC. The garbage collector
	// finds a CRD installed after it started on its next discovery resync
	// (30s), which is most of this wait.
	g.Expect(admin.Delete(ctx, rmq)).To(Succeed())
	presetCluster := newRabbitmqCluster(ns, "preset", "")
	g.Expect(admin.Delete(ctx, presetCluster)).To(Succeed())
	start = time.Now()
	g.Eventually(gone(ctx, rmq), waitTimeout, 250*time.Millisecond).Should(Succeed())
	g.Eventually(gone(ctx, presetCluster), waitTimeout, 250*time.Millisecond).Should(Succeed())
	for _, obj := range append(children, pvc) {
		g.Eventually(gone(ctx, obj), waitTimeout, 250*time.Millisecond).Should(Succeed())
	}
	t.Logf("Children and PVC deleted after %s", time.Since(start).Round(100*time.Millisecond))
}
