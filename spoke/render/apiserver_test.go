package render

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// apply server-side applies objects in order as the spoke does, with field
// manager berth-spoke and forced ownership.
func apply(ctx context.Context, g Gomega, objs []*unstructured.Unstructured) {
	for _, o := range objs {
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			client.FieldOwner(FieldManager), client.ForceOwnership)
		g.Expect(err).NotTo(HaveOccurred(), "applying %s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
	}
}

// resourceVersions reads the live resourceVersion of every object.
func resourceVersions(ctx context.Context, g Gomega, objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(o), live)).To(Succeed())
		out[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = live.GetResourceVersion()
	}
	return out
}

// uniqueWork renames a work's ManagedService so cases do not share objects.
func uniqueWork(w *fleetv1alpha1.ServiceWork, i int) *fleetv1alpha1.ServiceWork {
	w.Spec.ServiceRef.Name = fmt.Sprintf("svc%d", i)
	w.Name = fmt.Sprintf("team-a-svc%d", i)
	return w
}

// fakeCredentials stand in for the provider's credentials Secret.
var fakeCredentials = map[string][]byte{"username": []byte("app"), "password": []byte("pw"), "database": []byte("app")}

func TestAPIServerAcceptsRenderedObjects(t *testing.T) {
	needEnvtest(t)
	for i, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := t.Context()
			in := inputs(uniqueWork(renderCaseWork(tc), i), tc.caps)
			in.OperatorNamespaces = map[fleetv1alpha1.Operator][]string{
				fleetv1alpha1.OperatorZalandoPostgres: {"operators"}, fleetv1alpha1.OperatorSpotahomeRedis: {"operators"}, fleetv1alpha1.OperatorRabbitMQ: {"operators"},
			}
			in.MonitoringNamespaces = []string{"monitoring"}
			if tc.remote {
				in.ExposureSourceCIDRs = []string{"192.0.2.0/24", "2001:db8::/32"}
			} else {
				obs, err := ProviderStatus(ctx, in, ClientGetter{Reader: env.Client})
				g.Expect(err).NotTo(HaveOccurred())
				in.Connection, err = ConnectionData(in, fakeCredentials, *obs.Endpoint)
				g.Expect(err).NotTo(HaveOccurred())
			}
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Pending).To(BeEmpty())
			apply(ctx, g, res.Objects)
			before := resourceVersions(ctx, g, res.Objects)

			// A second render and apply changes nothing: the apiserver holds
			// exactly what berth sends, with no defaulting fight.
			gen := GeneratedSecretName(in.Work.Spec.ServiceRef)
			live := &corev1.Secret{}
			if err := env.Client.Get(ctx, gen, live); err == nil {
				in.GeneratedCredentials = live.Data
			} else {
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
			}
			again, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			apply(ctx, g, again.Objects)
			g.Expect(resourceVersions(ctx, g, again.Objects)).To(Equal(before))

			// Every object is owned by berth-spoke.
			for _, o := range res.Objects {
				live := &unstructured.Unstructured{}
				live.SetGroupVersionKind(o.GroupVersionKind())
				g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(o), live)).To(Succeed())
				managers := []string{}
				for _, mf := range live.GetManagedFields() {
					managers = append(managers, mf.Manager)
				}
				g.Expect(managers).To(ContainElement(FieldManager), "%s %s", o.GetKind(), o.GetName())
			}
		})
	}
}

func TestAPIServerAcceptsRemoteBindings(t *testing.T) {
	needEnvtest(t)
	testCases := []struct {
		name     string
		caps     fleetv1alpha1.Capabilities
		endpoint fleetv1alpha1.Endpoint
	}{
		{"IPv4", capsNone, fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234}},
		{"IPv6", capsNone, fleetv1alpha1.Endpoint{Host: "2001:db8::10", Port: 5432}},
		{"hostname", capsNone, fleetv1alpha1.Endpoint{Host: "lb-1.elb.example.com", Port: 5432}},
		{"ClusterMesh", capsMesh, fleetv1alpha1.Endpoint{}},
	}
	for i, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := t.Context()
			w := uniqueWork(newWork(fleetv1alpha1.EngineRabbitMQ).build(), 100+i)
			ep := tc.endpoint
			if ep.Host == "" {
				ep = fleetv1alpha1.Endpoint{Host: GlobalServiceHost(w.Spec.ServiceRef), Port: 5672}
			}
			w.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
			w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testRemote, Endpoint: &ep}
			in := inputs(w, tc.caps)
			in.Connection = map[string][]byte{
				KeyEngine: []byte("RabbitMQ"), KeyUsername: []byte("u"), KeyPassword: []byte("p"), KeyVhost: []byte("/"),
			}
			res, err := Render(in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Pending).To(BeEmpty())
			apply(ctx, g, res.Objects)
			before := resourceVersions(ctx, g, res.Objects)
			apply(ctx, g, res.Objects)
			g.Expect(resourceVersions(ctx, g, res.Objects)).To(Equal(before))
			ok, msg, err := BindingStatus(ctx, in, ClientGetter{Reader: env.Client})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ok).To(BeTrue(), msg)
		})
	}
}

func TestPlacementChangeKeepsTheAppSide(t *testing.T) {
	needEnvtest(t)
	g := NewWithT(t)
	ctx := t.Context()
	remote := uniqueWork(newWork(fleetv1alpha1.EnginePostgreSQL).build(), 200)
	remote.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
	remote.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testRemote, Endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234}}
	in := inputs(remote, capsNone)
	in.Connection = pgConnection()
	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	apply(ctx, g, res.Objects)

	// The service moves into the consumer's cluster: the same Service name
	// becomes an alias, the same Secret name holds the new credentials.
	local := uniqueWork(newWork(fleetv1alpha1.EnginePostgreSQL).build(), 200)
	in = inputs(local, capsNone)
	in.Connection = pgConnection()
	res, err = Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	apply(ctx, g, res.Objects)
	svc := &corev1.Service{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "svc200"}, svc)).To(Succeed())
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeExternalName))
	g.Expect(svc.Spec.ExternalName).To(Equal("svc200." + PlatformNamespace(local.Spec.ServiceRef) + ".svc.cluster.local"))
	g.Expect(svc.Spec.ClusterIP).To(BeEmpty())
	sec := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "svc200-credentials"}, sec)).To(Succeed())
	g.Expect(string(sec.Data[KeyHost])).To(Equal("svc200.shop.svc.cluster.local"), "the app's host does not change")
	g.Expect(string(sec.Data[KeyPort])).To(Equal("5432"), "nor does its port")
}

func TestStatusFromTheAPIServer(t *testing.T) {
	needEnvtest(t)
	g := NewWithT(t)
	ctx := t.Context()
	getter := ClientGetter{Reader: env.Client}

	pgIn := inputs(uniqueWork(newWork(fleetv1alpha1.EnginePostgreSQL).build(), 300), capsOperators)
	rmqIn := inputs(uniqueWork(newWork(fleetv1alpha1.EngineRabbitMQ).build(), 301), capsOperators)
	for _, in := range []Inputs{pgIn, rmqIn} {
		res, err := Render(in)
		g.Expect(err).NotTo(HaveOccurred())
		apply(ctx, g, res.Objects)
		obs, err := ProviderStatus(ctx, in, getter)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(obs.Ready).To(BeFalse(), "no operator has reported yet")
	}

	// The operators report through the status subresource.
	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(GVKPostgresql)
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "berth-team-a-svc300-1108e612", Name: "berth-svc300"}, pg)).To(Succeed())
	g.Expect(unstructured.SetNestedField(pg.Object, ZalandoRunning, "status", "PostgresClusterStatus")).To(Succeed())
	g.Expect(env.Client.Status().Update(ctx, pg)).To(Succeed())

	rmq := &unstructured.Unstructured{}
	rmq.SetGroupVersionKind(GVKRabbitmqCluster)
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "berth-team-a-svc301-dd7c4c0d", Name: "svc301"}, rmq)).To(Succeed())
	now := time.Now().UTC().Format(time.RFC3339)
	g.Expect(unstructured.SetNestedSlice(rmq.Object, []interface{}{
		map[string]interface{}{"type": "ClusterAvailable", "status": "True", "reason": "AtLeastOneEndpointAvailable", "lastTransitionTime": now},
		map[string]interface{}{"type": "AllReplicasReady", "status": "True", "reason": "AllPodsAreReady", "lastTransitionTime": now},
	}, "status", "conditions")).To(Succeed())
	g.Expect(env.Client.Status().Update(ctx, rmq)).To(Succeed())

	for _, in := range []Inputs{pgIn, rmqIn} {
		g.Eventually(func(g Gomega) {
			obs, err := ProviderStatus(ctx, in, getter)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(BeTrue(), obs.Message)
		}).WithTimeout(30 * time.Second).Should(Succeed())
	}
}

func TestAppTeamCanOnlyRead(t *testing.T) {
	needEnvtest(t)
	g := NewWithT(t)
	ctx := t.Context()
	in := inputs(uniqueWork(newWork(fleetv1alpha1.EngineRedis).build(), 400), capsNone)
	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	apply(ctx, g, res.Objects)

	cfg, err := env.AddUser("alice", AppTeamGroup("shop"))
	g.Expect(err).NotTo(HaveOccurred())
	alice, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ns := res.Namespace

	sec := &corev1.Secret{}
	g.Eventually(func() error {
		return alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "svc400-credentials"}, sec)
	}).WithTimeout(30*time.Second).Should(Succeed(), "the app team reads the connection Secret")
	g.Expect(sec.Data).To(HaveKey(KeyPassword))

	g.Expect(apierrors.IsForbidden(alice.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)))).To(BeTrue(), "no list")
	sec.Data[KeyPassword] = []byte("mine")
	g.Expect(apierrors.IsForbidden(alice.Update(ctx, sec))).To(BeTrue(), "no update")
	g.Expect(apierrors.IsForbidden(alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "svc400-scripts"}, &corev1.ConfigMap{}))).To(BeTrue())
	g.Expect(apierrors.IsForbidden(alice.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(BeTrue(),
		"the platform namespace is not theirs")

	bob, err := env.AddUser("bob", AppTeamGroup("other"))
	g.Expect(err).NotTo(HaveOccurred())
	bobClient, err := client.New(bob, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apierrors.IsForbidden(bobClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "svc400-credentials"}, &corev1.Secret{}))).To(BeTrue(),
		"another team cannot read it")
}

// TestApplyRejectsMisnamedFields shows the suite above can fail: server-side
// apply refuses a field the schema does not declare, in the test CRDs as in
// the built-in kinds, so a misspelt operator field is caught here.
func TestApplyRejectsMisnamedFields(t *testing.T) {
	needEnvtest(t)
	testCases := []struct {
		kind string
		path []string
	}{
		{"postgresql", []string{"spec", "numberOfInstance"}},
		{"RedisFailover", []string{"spec", "sentinel", "replica"}},
		{"RabbitmqCluster", []string{"spec", "persistence", "storageClass"}},
		{"CiliumNetworkPolicy", []string{"spec", "endpointSelectors"}},
		{"ResourceQuota", []string{"spec", "hardLimits"}},
	}
	caps := withOperators(capsCilium)
	for i, tc := range testCases {
		t.Run(tc.kind, func(t *testing.T) {
			g := NewWithT(t)
			engine := map[string]fleetv1alpha1.Engine{"RedisFailover": fleetv1alpha1.EngineRedis, "RabbitmqCluster": fleetv1alpha1.EngineRabbitMQ}[tc.kind]
			if engine == "" {
				engine = fleetv1alpha1.EnginePostgreSQL
			}
			res, err := Render(inputs(uniqueWork(newWork(engine).build(), 500+i), caps))
			g.Expect(err).NotTo(HaveOccurred())
			idx := indexOf(res.Objects, tc.kind)
			g.Expect(idx).To(BeNumerically(">=", 0))
			apply(t.Context(), g, res.Objects[:idx])
			bad := res.Objects[idx].DeepCopy()
			g.Expect(unstructured.SetNestedField(bad.Object, int64(1), tc.path...)).To(Succeed())
			err = env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(bad), client.FieldOwner(FieldManager), client.ForceOwnership)
			g.Expect(err).To(MatchError(ContainSubstring("field not declared in schema")))
		})
	}
}
