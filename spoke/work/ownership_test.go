package work_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework/operators"
	"github.com/berth-io/berth/spoke/render"
)

// uids makes each ManagedService UID unique.
var uids atomic.Int64

// providerWork creates a co-located work of engine for ManagedService
// team/<name>, bound into consumerNSs.
func providerWork(g Gomega, name string, engine fleetv1alpha1.Engine, version string, policy fleetv1alpha1.DeletionPolicy, consumerNSs ...string) *fleetv1alpha1.ServiceWork {
	w := newProviderWork(g, hubNS, name, engine, version, policy, consumerNSs...)
	g.Expect(k8sClient.Create(context.Background(), w)).To(Succeed())
	return w
}

// newProviderWork builds a co-located work in hub namespace hub, and makes
// sure its consumer namespaces exist.
func newProviderWork(g Gomega, hub, name string, engine fleetv1alpha1.Engine, version string, policy fleetv1alpha1.DeletionPolicy, consumerNSs ...string) *fleetv1alpha1.ServiceWork {
	for _, ns := range consumerNSs {
		ensureNamespace(g, ns)
	}
	return &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub, Name: "team." + name, Finalizers: []string{fleetv1alpha1.FinalizerWork}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team", Name: name, UID: fmt.Sprintf("uid-%s-%d", name, uids.Add(1)), Generation: 1},
			Service: &fleetv1alpha1.ServiceTemplate{
				Engine: engine, Version: version, Replicas: 1,
				Storage:        fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
				DeletionPolicy: policy,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: member, Namespaces: consumerNSs},
			Provider: &fleetv1alpha1.ProviderReference{Cluster: member},
		},
	}
}

func getWork(g Gomega, key client.ObjectKey) *fleetv1alpha1.ServiceWork {
	w := &fleetv1alpha1.ServiceWork{}
	g.Expect(k8sClient.Get(context.Background(), key, w)).To(Succeed())
	return w
}

func exists(o client.Object) func() bool {
	return func() bool {
		return k8sClient.Get(context.Background(), client.ObjectKeyFromObject(o), o) == nil
	}
}

// TestObjectsCarryingTheLabelAreNeverPruned: the EndpointSlice controller
// copies a Service's labels onto its slices, and operators copy a
// resource's labels onto their children. Such objects carry the work's
// label but are not in its record: neither pruning nor deletion touches
// them.
func TestObjectsCarryingTheLabelAreNeverPruned(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := providerWork(g, "labels", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "labels-a", "labels-b")
	key := client.ObjectKeyFromObject(w)
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	workLabel := render.WorkLabelValue(w)
	pns := platformNS("labels")

	// What the EndpointSlice controller makes for the binding Service in
	// labels-b, with the Service's labels.
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "labels-b", Name: "labels-x7k2p", Labels: map[string]string{
			fleetv1alpha1.LabelServiceWork: workLabel, render.LabelManagedBy: render.ManagedByBerth,
			discoveryv1.LabelServiceName: "labels", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	g.Expect(k8sClient.Create(ctx, slice)).To(Succeed())
	// What an operator makes next to the engine, with the engine's labels
	// and a controller reference.
	sts := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "labels"}, sts)).To(Succeed())
	child := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: pns, Name: "labels-operator-conf",
		Labels: map[string]string{fleetv1alpha1.LabelServiceWork: workLabel},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name, UID: sts.UID, Controller: ptr.To(true),
		}},
	}}
	g.Expect(k8sClient.Create(ctx, child)).To(Succeed())

	// labels-b stops being a consumer namespace: its binding is pruned, the
	// slice stays.
	cur := getWork(g, key)
	cur.Spec.Consumer.Namespaces = []string{"labels-a"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: "labels-b", Name: "labels"}, &corev1.Service{}))
	}, timeout, interval).Should(BeTrue(), "the recorded binding Service is pruned")
	g.Consistently(exists(slice), 3*testResync, interval).Should(BeTrue(), "the slice is not berth's")
	g.Expect(exists(child)()).To(BeTrue(), "the operator's child is not berth's")

	// Deletion with Delete removes the record, and only the record.
	g.Expect(k8sClient.Delete(ctx, cur)).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(exists(slice)()).To(BeTrue())
	got := &corev1.ConfigMap{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(child), got)).To(Succeed())
	g.Expect(got.DeletionTimestamp).To(BeNil(), "the spoke never deleted the operator's child")
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "labels"}, &appsv1.StatefulSet{}))).To(BeTrue())
	expectNoRecord(g, cur)
}

// TestForeignControllerIsLeftAlone: an object with a rendered name that
// another controller owns is neither applied nor deleted, and is reported.
func TestForeignControllerIsLeftAlone(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := newProviderWork(g, hubNS, "owned", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "owned-app")
	ref := w.Spec.ServiceRef
	pns := render.PlatformNamespace(ref)
	// The namespace is this service's (as after a crash before the
	// record was written); the scripts ConfigMap is someone else's.
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        pns,
		Labels:      map[string]string{fleetv1alpha1.LabelServiceWork: hubNS + ".team.owned"},
		Annotations: map[string]string{render.AnnotationServiceOwner: render.ServiceOwnerValue(ref)},
	}})).To(Succeed())
	foreign := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pns, Name: "owned-scripts",
			Labels: map[string]string{fleetv1alpha1.LabelServiceWork: hubNS + ".team.owned"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "example.com/v1", Kind: "Thing", Name: "thing", UID: "f00", Controller: ptr.To(true),
			}},
		},
		Data: map[string]string{"mine": "yes"},
	}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())

	g.Expect(k8sClient.Create(ctx, w)).To(Succeed())
	key := client.ObjectKeyFromObject(w)
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionConflict), timeout, interval).Should(Equal(metav1.ConditionTrue))
	got := getWork(g, key)
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionConflict).Message).To(ContainSubstring("ConfigMap " + pns + "/owned-scripts"))
	g.Expect(got.Status.Objects).To(ContainElement(And(HaveField("Name", "owned-scripts"), HaveField("Result", "Conflict"),
		HaveField("Message", ContainSubstring("controlled by Thing thing")))))
	for _, e := range record(g, got) {
		g.Expect(e.Name).NotTo(Equal("owned-scripts"), "a foreign object is never recorded")
	}
	cm := &corev1.ConfigMap{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), cm)).To(Succeed())
	g.Expect(cm.Data).To(Equal(map[string]string{"mine": "yes"}), "never applied")

	g.Expect(k8sClient.Delete(ctx, got)).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), cm)).To(Succeed())
	g.Expect(cm.DeletionTimestamp).To(BeNil(), "never deleted")
}

// TestRecreatedObjectIsNotBerths: an app team replaces a recorded binding
// Service with its own (a new UID, none of berth's labels). The spoke
// reports the conflict, never overwrites it, and does not delete it with
// the work.
func TestRecreatedObjectIsNotBerths(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	w := providerWork(g, "replaced", fleetv1alpha1.EngineRedis, "7.2", fleetv1alpha1.DeletionPolicyDelete, "replaced-app")
	key := client.ObjectKeyFromObject(w)
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
	svcKey := client.ObjectKey{Namespace: "replaced-app", Name: "replaced"}

	// Delete berth's Service and create the team's at once; the spoke may
	// win the race and recreate its own first, then try again.
	var theirs *corev1.Service
	g.Eventually(func() error {
		old := &corev1.Service{}
		if err := k8sClient.Get(ctx, svcKey, old); err == nil {
			if err := k8sClient.Delete(ctx, old, client.Preconditions{UID: &old.UID}); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
		theirs = &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: svcKey.Namespace, Name: svcKey.Name, Labels: map[string]string{"team": "app"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 7777}}},
		}
		return k8sClient.Create(ctx, theirs)
	}, timeout, time.Millisecond).Should(Succeed())

	g.Eventually(workCondition(key, fleetv1alpha1.ConditionConflict), timeout, interval).Should(Equal(metav1.ConditionTrue))
	got := getWork(g, key)
	g.Expect(got.Status.Objects).To(ContainElement(And(HaveField("Kind", "Service"), HaveField("Namespace", "replaced-app"), HaveField("Result", "Conflict"))))
	for _, e := range record(g, got) {
		g.Expect(e.UID).NotTo(Equal(theirs.UID), "the team's Service is never recorded")
	}
	g.Expect(k8sClient.Delete(ctx, got)).To(Succeed())
	g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
	svc := &corev1.Service{}
	g.Expect(k8sClient.Get(ctx, svcKey, svc)).To(Succeed())
	g.Expect(svc.UID).To(Equal(theirs.UID))
	g.Expect(svc.DeletionTimestamp).To(BeNil())
	g.Expect(svc.Spec.Ports[0].Port).To(Equal(int32(7777)), "never overwritten")
}

// engineCase is one operator flavour: its engine, and the names of its
// engine resource and of the Secret holding the credentials.
type engineCase struct {
	flavour string
	// replicas is the path of the replica count in the resource's spec.
	replicas  []string
	engine    fleetv1alpha1.Engine
	version   string
	gvk       func() *unstructured.Unstructured
	resource  func(name string) string
	secret    func(name string) string
	byBerth   bool // the credentials Secret is berth's generated one
	statefulS func(name string) string
}

var engineCases = []engineCase{
	{
		flavour: "Zalando", engine: fleetv1alpha1.EnginePostgreSQL, version: "16", replicas: []string{"spec", "numberOfInstances"},
		gvk:       func() *unstructured.Unstructured { return newUnstructured(render.GVKPostgresql) },
		resource:  func(n string) string { return "berth-" + n },
		secret:    func(n string) string { return operators.ZalandoSecretName("app", "berth-"+n) },
		statefulS: func(n string) string { return "berth-" + n },
	},
	{
		flavour: "Spotahome", engine: fleetv1alpha1.EngineRedis, version: "7.2", replicas: []string{"spec", "redis", "replicas"},
		gvk:       func() *unstructured.Unstructured { return newUnstructured(render.GVKRedisFailover) },
		resource:  func(n string) string { return n },
		secret:    func(n string) string { return n + "-credentials" },
		byBerth:   true,
		statefulS: func(n string) string { return "rfr-" + n },
	},
	{
		flavour: "RabbitMQOperator", engine: fleetv1alpha1.EngineRabbitMQ, version: "3.13", replicas: []string{"spec", "replicas"},
		gvk:       func() *unstructured.Unstructured { return newUnstructured(render.GVKRabbitmqCluster) },
		resource:  func(n string) string { return n },
		secret:    func(n string) string { return n + "-default-user" },
		statefulS: func(n string) string { return n + "-server" },
	},
}

// TestRetainOrphansTheEngineOfEachFlavour runs each operator flavour under
// its emulator: deletion with Retain leaves the engine resource running
// with the operator's StatefulSet and credentials, unlabelled for the work
// and marked retained; the record is gone. A new ManagedService of the same
// name adopts everything again.
func TestRetainOrphansTheEngineOfEachFlavour(t *testing.T) {
	caps.Store(&allOperators)
	t.Cleanup(func() { caps.Store(&fleetv1alpha1.Capabilities{}) })
	for _, tc := range engineCases {
		t.Run(tc.flavour, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			name := "ret-" + map[fleetv1alpha1.Engine]string{fleetv1alpha1.EnginePostgreSQL: "pg", fleetv1alpha1.EngineRedis: "rd", fleetv1alpha1.EngineRabbitMQ: "mq"}[tc.engine]
			w := providerWork(g, name, tc.engine, tc.version, fleetv1alpha1.DeletionPolicyRetain, name+"-app")
			key := client.ObjectKeyFromObject(w)
			pns := platformNS(name)
			g.Eventually(workCondition(key, fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
			ns := &corev1.Namespace{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
			g.Expect(ns.Annotations).To(HaveKeyWithValue(render.AnnotationFlavour, tc.flavour))
			engine := tc.gvk()
			engine.SetNamespace(pns)
			engine.SetName(tc.resource(name))
			g.Expect(exists(engine)()).To(BeTrue())
			engineUID := engine.GetUID()
			// The guard rails let the flavour's operator and monitoring in.
			np := &networkingv1.NetworkPolicy{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: pns, Name: "berth-ingress"}, np)).To(Succeed())
			installation, err := operators.InstallationOf(fleetv1alpha1.Operator(map[string]string{
				"Zalando": string(fleetv1alpha1.OperatorZalandoPostgres), "Spotahome": string(fleetv1alpha1.OperatorSpotahomeRedis),
				"RabbitMQOperator": string(fleetv1alpha1.OperatorRabbitMQ),
			}[tc.flavour]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(np.Spec.Ingress).To(ContainElement(HaveField("From", ContainElement(HaveField("NamespaceSelector.MatchExpressions",
				ContainElement(HaveField("Values", ContainElement(installation.Namespace))))))), "the operator's namespace is admitted")
			// Someone scales the engine resource: the spoke's field drifted
			// and is set back.
			g.Eventually(func() error {
				cur := tc.gvk()
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(engine), cur); err != nil {
					return err
				}
				if err := unstructured.SetNestedField(cur.Object, int64(3), tc.replicas...); err != nil {
					return err
				}
				return k8sClient.Update(ctx, cur)
			}, timeout, interval).Should(Succeed())
			g.Eventually(func() int64 {
				cur := tc.gvk()
				_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(engine), cur)
				n, _, _ := unstructured.NestedInt64(cur.Object, tc.replicas...)
				return n
			}, timeout, interval).Should(Equal(int64(1)), "the drift is undone")
			// The operator made its StatefulSet and the credentials.
			sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: pns, Name: tc.statefulS(name)}}
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: pns, Name: tc.secret(name)}}
			g.Eventually(exists(sts), timeout, interval).Should(BeTrue())
			g.Eventually(exists(secret), timeout, interval).Should(BeTrue())
			password := string(secret.Data["password"])
			// A volume, as the StatefulSet controller makes them (envtest
			// has none).
			pvc := &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Namespace: pns, Name: "data-" + tc.statefulS(name) + "-0"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}
			g.Expect(k8sClient.Create(ctx, pvc)).To(Succeed())

			g.Expect(k8sClient.Delete(ctx, getWork(g, key))).To(Succeed())
			g.Eventually(workCondition(key, fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
			got := getWork(g, key)
			removed := meta.FindStatusCondition(got.Status.Conditions, fleetv1alpha1.ConditionRemoved)
			g.Expect(removed.Message).To(ContainSubstring(engine.GetKind() + " " + pns + "/" + engine.GetName()))
			expectNoRecord(g, got)

			// Give the operator time to act: nothing of the data goes.
			g.Consistently(func(g Gomega) {
				cur := tc.gvk()
				g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(engine), cur)).To(Succeed())
				g.Expect(cur.GetUID()).To(Equal(engineUID))
				expectRetained(g, cur, w)
				g.Expect(exists(sts)()).To(BeTrue(), "the operator's StatefulSet")
				g.Expect(exists(secret)()).To(BeTrue(), "the credentials")
			}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pns}, ns)).To(Succeed())
			expectRetained(g, ns, w)
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
			expectRetained(g, pvc, w)
			g.Expect(got.Status.Objects).To(ContainElement(And(HaveField("Kind", "PersistentVolumeClaim"), HaveField("Name", pvc.Name), HaveField("Result", "Retained"))))

			// The hub lets the work go; a new ManagedService of the same
			// namespace and name (a new UID) takes everything back.
			releaseWork(g, key)
			again := providerWork(g, name, tc.engine, tc.version, fleetv1alpha1.DeletionPolicyDelete, name+"-app")
			g.Expect(again.Spec.ServiceRef.UID).NotTo(Equal(w.Spec.ServiceRef.UID))
			g.Eventually(workCondition(client.ObjectKeyFromObject(again), fleetv1alpha1.ConditionApplied), timeout, interval).Should(Equal(metav1.ConditionTrue))
			cur := tc.gvk()
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(engine), cur)).To(Succeed())
			g.Expect(cur.GetUID()).To(Equal(engineUID), "the same engine resource, adopted")
			g.Expect(cur.GetLabels()).To(HaveKeyWithValue(fleetv1alpha1.LabelServiceWork, render.WorkLabelValue(again)))
			g.Expect(cur.GetLabels()).NotTo(HaveKey(fleetv1alpha1.LabelRetained))
			g.Expect(cur.GetAnnotations()).NotTo(HaveKey(render.AnnotationRetainedBy))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
			g.Expect(string(secret.Data["password"])).To(Equal(password), "the same credentials")
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
			g.Expect(pvc.Labels).NotTo(HaveKey(fleetv1alpha1.LabelRetained), "the volume is in use again")
			entries := record(g, again)
			g.Expect(entries).To(ContainElement(And(HaveField("Kind", engine.GetKind()), HaveField("UID", engineUID))))

			// Delete now removes the engine resource.
			g.Expect(k8sClient.Delete(ctx, getWork(g, client.ObjectKeyFromObject(again)))).To(Succeed())
			g.Eventually(workCondition(client.ObjectKeyFromObject(again), fleetv1alpha1.ConditionRemoved), timeout, interval).Should(Equal(metav1.ConditionTrue))
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(engine), tc.gvk()))).To(BeTrue(), "Delete deletes the engine resource")
			// What the operator then deletes is the operator's (and the
			// garbage collector's, which envtest lacks).
			releaseWork(g, client.ObjectKeyFromObject(again))
		})
	}
}

// releaseWork plays the hub: it drops the finalizer of a work whose spoke
// reported Removed=True, and waits until the work is gone.
func releaseWork(g Gomega, key client.ObjectKey) {
	ctx := context.Background()
	g.Eventually(func() error {
		w := &fleetv1alpha1.ServiceWork{}
		if err := k8sClient.Get(ctx, key, w); err != nil {
			return client.IgnoreNotFound(err)
		}
		w.Finalizers = nil
		return k8sClient.Update(ctx, w)
	}, timeout, interval).Should(Succeed())
	g.Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key, &fleetv1alpha1.ServiceWork{})) }, timeout, interval).Should(BeTrue())
}

func newUnstructured(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}
