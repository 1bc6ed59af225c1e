package operators

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newPostgresql is a postgresql as the spoke renders it: team berth, an
// app user and database, the priority class, and berth's labels.
func newPostgresql(ns, name string, instances int64) *unstructured.Unstructured {
	return newResource(GVKPostgresql, ns, name, berthLabels, map[string]any{
		"teamId":            "berth",
		"numberOfInstances": instances,
		"postgresql":        map[string]any{"version": "16"},
		"volume":            map[string]any{"size": "1Gi"},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "256Mi"},
			"limits":   map[string]any{"cpu": "500m", "memory": "512Mi"},
		},
		"users":                     map[string]any{"app_user": []any{"createdb"}},
		"databases":                 map[string]any{"app": "app_user"},
		"enableLogicalBackup":       false,
		"enableMasterLoadBalancer":  false,
		"enableReplicaLoadBalancer": false,
		"podPriorityClassName":      priorityClass,
	})
}

// TestZalandoDefaults drives a postgresql through the emulator with the
// operator's defaults: children, labels, copied ownerReferences, Secrets
// (an existing one keeps its password), role labels, Creating then
// Running, and a deletion that takes the PVCs and Secrets with it but not
// the per-namespace postgres-pod ServiceAccount.
func TestZalandoDefaults(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	ns := testNamespace(t, "zalando-defaults", Options{Operators: []Operator{Zalando}, ZalandoCheckInterval: 500 * time.Millisecond})
	const name = "berth-orders"

	// The resource's own owner, whose reference the children copy.
	owner := &corev1.ConfigMap{ObjectMeta: key(ns, "owner")}
	g.Expect(admin.Create(ctx, owner)).To(Succeed())
	// A Secret for app_user made before the cluster keeps its password.
	preset := &corev1.Secret{ObjectMeta: key(ns, ZalandoSecretName("app_user", name)),
		Data: map[string][]byte{"username": []byte("app_user"), "password": []byte("preset-password")}}
	g.Expect(admin.Create(ctx, preset)).To(Succeed())

	pg := newPostgresql(ns, name, 2)
	pg.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}})
	g.Expect(admin.Create(ctx, pg)).To(Succeed())

	// Creating first; observed soon after creation, before the pods run.
	g.Eventually(func() string {
		u, err := getResource(ctx, GVKPostgresql, ns, name)
		g.Expect(err).NotTo(HaveOccurred())
		s, _, _ := unstructured.NestedString(u.Object, "status", "PostgresClusterStatus")
		return s
	}, waitTimeout, 100*time.Millisecond).Should(Or(Equal(ZalandoStatusCreating), Equal(ZalandoStatusRunning)))
	start := time.Now()
	g.Eventually(func() string {
		u, err := getResource(ctx, GVKPostgresql, ns, name)
		g.Expect(err).NotTo(HaveOccurred())
		s, _, _ := unstructured.NestedString(u.Object, "status", "PostgresClusterStatus")
		return s
	}, waitTimeout, 250*time.Millisecond).Should(Equal(ZalandoStatusRunning))
	t.Logf("postgresql Running %s after Creating", time.Since(start).Round(100*time.Millisecond))

	wantLabels := map[string]string{"application": "spilo", "cluster-name": name, "team": "berth"}
	wantOwners := []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}
	sts := &appsv1.StatefulSet{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sts)).To(Succeed())
	g.Expect(sts.Status.ReadyReplicas).To(BeEquivalentTo(2))
	g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
	g.Expect(sts.Spec.VolumeClaimTemplates[0].Name).To(Equal("pgdata"))
	g.Expect(sts.Spec.Template.Spec.PriorityClassName).To(Equal(priorityClass))
	children := []client.Object{sts,
		&corev1.Service{ObjectMeta: key(ns, name)}, &corev1.Service{ObjectMeta: key(ns, name+"-repl")},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(ns, "postgres-"+name+"-pdb")},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(ns, "postgres-"+name+"-critical-op-pdb")},
	}
	for _, user := range []string{"postgres", "standby"} {
		children = append(children, &corev1.Secret{ObjectMeta: key(ns, ZalandoSecretName(user, name))})
	}
	for _, obj := range children {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		for k, v := range wantLabels {
			g.Expect(obj.GetLabels()).To(HaveKeyWithValue(k, v), "%T %s", obj, obj.GetName())
		}
		expectNoBerthLabels(g, obj)
		g.Expect(obj.GetOwnerReferences()).To(Equal(wantOwners), "%T %s copies the postgresql's ownerReferences", obj, obj.GetName())
	}
	secret := &corev1.Secret{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "postgres." + name + ZalandoSecretSuffix}, secret)).To(Succeed())
	g.Expect(secret.Data).To(HaveKeyWithValue("username", []byte("postgres")))
	g.Expect(secret.Data["password"]).To(HaveLen(64))
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(preset), preset)).To(Succeed())
	g.Expect(string(preset.Data["password"])).To(Equal("preset-password"), "an existing Secret keeps its password")
	g.Expect(preset.Name).To(Equal("app-user." + name + ZalandoSecretSuffix))

	for i := range 2 {
		pvc := &corev1.PersistentVolumeClaim{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pgdata-" + name + "-" + string(rune('0'+i))}, pvc)).To(Succeed())
		g.Expect(pvc.Labels).To(HaveKeyWithValue("cluster-name", name))
	}
	pods := podsOf(ctx, g, ns, zalandoSelector(name))
	g.Expect(rolesOf(pods, ZalandoRoleLabel)).To(Equal(map[string]int{"master": 1, "replica": 1}))
	for _, p := range pods {
		expectNoBerthLabels(g, &p)
	}
	master := &corev1.Service{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, master)).To(Succeed())
	g.Expect(master.Spec.Selector).To(HaveKeyWithValue(ZalandoRoleLabel, "master"))
	g.Expect(master.Spec.Ports[0].Port).To(BeEquivalentTo(5432))
	podSA := &corev1.ServiceAccount{ObjectMeta: key(ns, "postgres-pod")}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(podSA), podSA)).To(Succeed())
	g.Expect(podSA.OwnerReferences).To(BeEmpty())
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "postgres-pod"}, &rbacv1.RoleBinding{})).To(Succeed())

	// Delete: no finalizer, the operator deletes everything itself, PVCs
	// and Secrets included.
	g.Expect(admin.Delete(ctx, pg)).To(Succeed())
	deleted := append(children, preset,
		&corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "pgdata-"+name+"-0")},
		&corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "pgdata-"+name+"-1")})
	for _, obj := range deleted {
		g.Eventually(gone(ctx, obj), waitTimeout, 250*time.Millisecond).Should(Succeed())
	}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(podSA), podSA)).To(Succeed(), "postgres-pod is never deleted")
}

// TestZalandoKeepsVolumesAndSecrets turns both deletion defaults off: the
// StatefulSet and Services go, the PVCs and credentials stay.
func TestZalandoKeepsVolumesAndSecrets(t *testing.T) {
	needCluster(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	ns := testNamespace(t, "zalando-keep", Options{
		Operators: []Operator{Zalando}, ZalandoCheckInterval: 500 * time.Millisecond,
		ZalandoKeepVolumes: true, ZalandoKeepSecrets: true,
	})
	const name = "berth-kept"
	pg := newPostgresql(ns, name, 1)
	g.Expect(admin.Create(ctx, pg)).To(Succeed())
	g.Eventually(func() string {
		u, err := getResource(ctx, GVKPostgresql, ns, name)
		g.Expect(err).NotTo(HaveOccurred())
		s, _, _ := unstructured.NestedString(u.Object, "status", "PostgresClusterStatus")
		return s
	}, waitTimeout, 250*time.Millisecond).Should(Equal(ZalandoStatusRunning))

	g.Expect(admin.Delete(ctx, pg)).To(Succeed())
	g.Eventually(gone(ctx, &appsv1.StatefulSet{ObjectMeta: key(ns, name)}), waitTimeout, 250*time.Millisecond).Should(Succeed())
	g.Eventually(gone(ctx, &corev1.Service{ObjectMeta: key(ns, name)}), waitTimeout, 250*time.Millisecond).Should(Succeed())
	kept := []client.Object{
		&corev1.PersistentVolumeClaim{ObjectMeta: key(ns, "pgdata-"+name+"-0")},
		&corev1.Secret{ObjectMeta: key(ns, ZalandoSecretName("postgres", name))},
		&corev1.Secret{ObjectMeta: key(ns, ZalandoSecretName("app_user", name))},
	}
	g.Consistently(func(g Gomega) {
		for _, obj := range kept {
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			g.Expect(obj.GetDeletionTimestamp()).To(BeNil())
		}
	}, 2*time.Second, 250*time.Millisecond).Should(Succeed())
}
