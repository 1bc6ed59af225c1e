package render

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestRenderRejectsBadInputs(t *testing.T) {
	testCases := []struct {
		name    string
		mutate  func(in *Inputs)
		wantErr string
	}{
		{"no work", func(in *Inputs) { in.Work = nil }, "inputs.work"},
		{"no member", func(in *Inputs) { in.Member = "" }, "inputs.member"},
		{"no roles", func(in *Inputs) { in.Work.Spec.Roles = nil }, "spec.roles"},
		{"unknown role", func(in *Inputs) { in.Work.Spec.Roles = []fleetv1alpha1.WorkRole{"Observer"} }, "spec.roles[0]"},
		{"bad service name", func(in *Inputs) { in.Work.Spec.ServiceRef.Name = "1orders" }, "spec.serviceRef.name"},
		{"long service name", func(in *Inputs) { in.Work.Spec.ServiceRef.Name = strings.Repeat("a", 41) }, "spec.serviceRef.name"},
		{"bad service namespace", func(in *Inputs) { in.Work.Spec.ServiceRef.Namespace = "Team_A" }, "spec.serviceRef.namespace"},
		{"no consumer cluster", func(in *Inputs) { in.Work.Spec.Consumer.Cluster = "" }, "spec.consumer.cluster"},
		{"no consumer namespaces", func(in *Inputs) { in.Work.Spec.Consumer.Namespaces = nil }, "spec.consumer.namespaces"},
		{"bad consumer namespace", func(in *Inputs) { in.Work.Spec.Consumer.Namespaces = []string{"shop", "Bad"} }, "spec.consumer.namespaces[1]"},
		{"both roles but remote", func(in *Inputs) { in.Work.Spec.Consumer.Cluster = testRemote }, "spec.consumer.cluster"},
		{"provider without service", func(in *Inputs) { in.Work.Spec.Service = nil }, "spec.service is required"},
		{"unknown engine", func(in *Inputs) { in.Work.Spec.Service.Engine = "MySQL" }, "spec.service.engine"},
		{"unsupported version", func(in *Inputs) { in.Work.Spec.Service.Version = "9.6" }, "spec.service.version"},
		{"zero replicas", func(in *Inputs) { in.Work.Spec.Service.Replicas = 0 }, "spec.service.replicas"},
		{"zero storage", func(in *Inputs) { in.Work.Spec.Service.Storage.Size = resource.MustParse("0") }, "spec.service.storage.size"},
		{"request above limit", func(in *Inputs) {
			in.Work.Spec.Service.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		}, "spec.service.resources.requests.cpu"},
		{"pinned operator missing", func(in *Inputs) { in.Flavour = FlavourZalando }, "capabilities.operators"},
		{"flavour for another engine", func(in *Inputs) { in.Flavour = FlavourSpotahome }, "inputs.flavour"},
		{"consumer without provider", func(in *Inputs) {
			in.Work.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
			in.Work.Spec.Provider = nil
		}, "spec.provider is required"},
		{"consumer of itself", func(in *Inputs) {
			in.Work.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
		}, "spec.provider.cluster"},
		{"remote endpoint port", func(in *Inputs) {
			in.Work.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
			in.Work.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testRemote, Endpoint: &fleetv1alpha1.Endpoint{Host: "10.0.0.1", Port: 0}}
		}, "spec.provider.endpoint.port"},
		{"global service without mesh", func(in *Inputs) {
			in.Work.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
			in.Work.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testRemote, Endpoint: &fleetv1alpha1.Endpoint{
				Host: GlobalServiceHost(in.Work.Spec.ServiceRef), Port: 5432,
			}}
		}, "clusterMesh"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsNone)
			tc.mutate(&in)
			_, err := Render(in)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestPlatformNamespace(t *testing.T) {
	g := NewWithT(t)
	g.Expect(PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "team-a", Name: "orders"})).To(Equal("berth-team-a-orders-75c1a60b"))
	// Names that join to the same string get different namespaces.
	g.Expect(PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "shop", Name: "orders-db"})).To(Equal("berth-shop-orders-db-24ad43c5"))
	g.Expect(PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: "shop-orders", Name: "db"})).To(Equal("berth-shop-orders-db-81814312"))

	long := fleetv1alpha1.ServiceReference{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("s", 40)}
	other := fleetv1alpha1.ServiceReference{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("s", 39) + "t"}
	a, b := PlatformNamespace(long), PlatformNamespace(other)
	g.Expect(a).To(HaveLen(63))
	g.Expect(validation.IsDNS1123Label(a)).To(BeEmpty())
	g.Expect(a).To(HavePrefix("berth-nnn"))
	g.Expect(a).NotTo(Equal(b), "a shared prefix must not collide")
	g.Expect(PlatformNamespace(long)).To(Equal(a), "the name is deterministic")
}

func TestServiceOwnerMatches(t *testing.T) {
	ref := fleetv1alpha1.ServiceReference{Namespace: "shop", Name: "db", UID: "u1"}
	testCases := []struct {
		value string
		ref   fleetv1alpha1.ServiceReference
		want  bool
	}{
		{value: ServiceOwnerValue(ref), ref: ref, want: true},
		{value: "shop/db/", ref: ref, want: true},
		{value: "shop/db/u1", ref: fleetv1alpha1.ServiceReference{Namespace: "shop", Name: "db"}, want: true},
		{value: "shop/db/u0", ref: ref, want: false},
		{value: "shop-orders/db/u1", ref: ref, want: false},
		{value: "shop/dbx/u1", ref: ref, want: false},
		{value: "shop/db", ref: ref, want: false},
		{value: "", ref: ref, want: false},
	}
	for _, tc := range testCases {
		t.Run(tc.value, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(ServiceOwnerMatches(tc.value, tc.ref)).To(Equal(tc.want))
		})
	}
}

func TestWorkLabelValue(t *testing.T) {
	g := NewWithT(t)
	w := newWork(fleetv1alpha1.EngineRedis).build()
	g.Expect(WorkLabelValue(w)).To(Equal(testWorkNS + "." + testWorkName))
	w.Name = strings.Repeat("x", 200)
	v := WorkLabelValue(w)
	g.Expect(v).To(HaveLen(63))
	g.Expect(validation.IsValidLabelValue(v)).To(BeEmpty())
}

func TestSelectFlavour(t *testing.T) {
	testCases := []struct {
		engine fleetv1alpha1.Engine
		caps   fleetv1alpha1.Capabilities
		want   Flavour
	}{
		{fleetv1alpha1.EnginePostgreSQL, capsNone, FlavourBuiltIn},
		{fleetv1alpha1.EnginePostgreSQL, capsOperators, FlavourZalando},
		{fleetv1alpha1.EngineRedis, capsNone, FlavourBuiltIn},
		{fleetv1alpha1.EngineRedis, capsOperators, FlavourSpotahome},
		{fleetv1alpha1.EngineRabbitMQ, capsNone, FlavourBuiltIn},
		{fleetv1alpha1.EngineRabbitMQ, capsOperators, FlavourRabbitMQOperator},
		{fleetv1alpha1.EngineRedis, fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{fleetv1alpha1.OperatorZalandoPostgres}}, FlavourBuiltIn},
	}
	for _, tc := range testCases {
		t.Run(string(tc.engine)+"/"+string(tc.want), func(t *testing.T) {
			NewWithT(t).Expect(SelectFlavour(tc.engine, tc.caps)).To(Equal(tc.want))
		})
	}
}

func TestSelectExposure(t *testing.T) {
	testCases := []struct {
		name string
		caps fleetv1alpha1.Capabilities
		want Exposure
	}{
		{"nothing", capsNone, ExposureNodePort},
		{"load balancer", capsLB, ExposureLoadBalancer},
		{"cilium without mesh", fleetv1alpha1.Capabilities{Cilium: true, LoadBalancer: true}, ExposureLoadBalancer},
		{"mesh", fleetv1alpha1.Capabilities{Cilium: true, ClusterMesh: true, LoadBalancer: true}, ExposureClusterMesh},
		{"mesh reported without cilium", fleetv1alpha1.Capabilities{ClusterMesh: true}, ExposureNodePort},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(SelectExposure(tc.caps)).To(Equal(tc.want))
		})
	}
}

func TestPinnedFlavourWins(t *testing.T) {
	g := NewWithT(t)
	in := inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsOperators)
	in.Flavour = FlavourBuiltIn
	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Flavour).To(Equal(FlavourBuiltIn))
	g.Expect(find(res.Objects, "postgresql", res.Namespace, "berth-orders")).To(BeNil())
	g.Expect(find(res.Objects, "StatefulSet", res.Namespace, "orders")).NotTo(BeNil())
	ns := find(res.Objects, "Namespace", "", res.Namespace)
	g.Expect(ns.GetAnnotations()).To(HaveKeyWithValue(AnnotationFlavour, "BuiltIn"))
}

// renderCase is one engine x capabilities x placement combination.
type renderCase struct {
	name   string
	engine fleetv1alpha1.Engine
	caps   fleetv1alpha1.Capabilities
	remote bool
}

// renderCases is every engine with and without its operator, co-located,
// remote, with Cilium, and with ClusterMesh.
func renderCases() []renderCase {
	var out []renderCase
	for _, e := range []fleetv1alpha1.Engine{fleetv1alpha1.EnginePostgreSQL, fleetv1alpha1.EngineRedis, fleetv1alpha1.EngineRabbitMQ} {
		for _, ops := range []bool{false, true} {
			for _, p := range []struct {
				name   string
				caps   fleetv1alpha1.Capabilities
				remote bool
			}{
				{"colocated", capsNone, false},
				{"remote-nodeport", capsNone, true},
				{"remote-lb", capsLB, true},
				{"cilium-colocated", capsCilium, false},
				{"cilium-remote", capsCilium, true},
				{"mesh-remote", capsMesh, true},
			} {
				caps := p.caps
				flavour := "builtin"
				if ops {
					caps = withOperators(caps)
					flavour = "operator"
				}
				out = append(out, renderCase{
					name: strings.ToLower(string(e)) + "-" + flavour + "-" + p.name, engine: e, caps: caps, remote: p.remote,
				})
			}
		}
	}
	return out
}

// renderCaseWork builds the work of a case.
func renderCaseWork(tc renderCase) *fleetv1alpha1.ServiceWork {
	b := newWork(tc.engine)
	if tc.remote {
		b.remoteProvider()
	}
	return b.build()
}

func TestEveryObjectIsLabelledAndOrdered(t *testing.T) {
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			res, err := Render(inputs(renderCaseWork(tc), tc.caps))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Objects).NotTo(BeEmpty())
			g.Expect(res.Objects[0].GetKind()).To(Equal("Namespace"), "the namespace is applied first")
			g.Expect(res.Objects[0].GetAnnotations()).To(HaveKeyWithValue(AnnotationServiceOwner, ServiceOwnerValue(renderCaseWork(tc).Spec.ServiceRef)),
				"the platform namespace names its ManagedService")
			seen := map[string]bool{}
			for _, o := range res.Objects {
				id := o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
				g.Expect(seen).NotTo(HaveKey(id), "rendered twice: %s", id)
				seen[id] = true
				g.Expect(o.GetLabels()).To(HaveKeyWithValue(LabelManagedBy, ManagedByBerth), id)
				g.Expect(validation.IsDNS1123Subdomain(o.GetName())).To(BeEmpty(), id)
				if Shared(o) {
					g.Expect(o.GetKind()).To(Equal("PriorityClass"))
					g.Expect(o.GetLabels()).NotTo(HaveKey(fleetv1alpha1.LabelServiceWork))
					continue
				}
				g.Expect(o.GetLabels()).To(HaveKeyWithValue(fleetv1alpha1.LabelServiceWork, testWorkNS+"."+testWorkName), id)
				if o.GetNamespace() == res.Namespace {
					g.Expect(o.GetLabels()).To(HaveKeyWithValue(LabelPlatformOwned, "true"), id)
				}
				g.Expect(o.Object).NotTo(HaveKey("status"), id)
			}
			// Policies and quotas come before any workload.
			g.Expect(indexOf(res.Objects, "ResourceQuota")).To(BeNumerically("<", firstWorkload(res.Objects)))
			policy := "NetworkPolicy"
			if tc.caps.Cilium {
				policy = "CiliumNetworkPolicy"
				g.Expect(indexOf(res.Objects, "NetworkPolicy")).To(Equal(-1), "Cilium replaces the NetworkPolicy")
			} else {
				g.Expect(indexOf(res.Objects, "CiliumNetworkPolicy")).To(Equal(-1))
			}
			g.Expect(indexOf(res.Objects, policy)).To(BeNumerically("<", firstWorkload(res.Objects)))
		})
	}
}

// indexOf is the index of the first object of a kind, or -1.
func indexOf(objs []*unstructured.Unstructured, kind string) int {
	for i, o := range objs {
		if o.GetKind() == kind {
			return i
		}
	}
	return -1
}

// firstWorkload is the index of the first StatefulSet or operator resource.
func firstWorkload(objs []*unstructured.Unstructured) int {
	for i, o := range objs {
		switch o.GetKind() {
		case "StatefulSet", "postgresql", "RedisFailover", "RabbitmqCluster":
			return i
		}
	}
	return len(objs)
}

func TestGeneratedCredentialsAreStable(t *testing.T) {
	g := NewWithT(t)
	w := newWork(fleetv1alpha1.EnginePostgreSQL).build()
	name := GeneratedSecretName(w.Spec.ServiceRef)

	first, err := Render(inputs(w, capsNone))
	g.Expect(err).NotTo(HaveOccurred())
	sec := find(first.Objects, "Secret", name.Namespace, name.Name)
	g.Expect(sec).NotTo(BeNil())
	g.Expect(CreateOnly(sec)).To(BeTrue())
	g.Expect(KeepOnRetain(sec)).To(BeTrue())
	live := secretData(g, sec)
	g.Expect(live).To(HaveKeyWithValue(KeyUsername, []byte("app")))
	g.Expect(live[KeyPassword]).To(HaveLen(32))
	g.Expect(live[keyReplicationPassword]).To(HaveLen(32))
	g.Expect(live[KeyPassword]).NotTo(Equal(live[keyReplicationPassword]))

	// A fresh source of randomness and the live data: nothing changes.
	in := inputs(w, capsNone)
	in.Rand = newSeededRand(99)
	in.GeneratedCredentials = live
	again, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secretData(g, find(again.Objects, "Secret", name.Namespace, name.Name))).To(Equal(live))

	// Without the live data a new password would be drawn: this is what
	// the create-only annotation guards against.
	in.GeneratedCredentials = nil
	fresh, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secretData(g, find(fresh.Objects, "Secret", name.Namespace, name.Name))[KeyPassword]).NotTo(Equal(live[KeyPassword]))

	// A missing key is filled in, the others kept.
	partial := map[string][]byte{KeyPassword: []byte("kept")}
	in.GeneratedCredentials = partial
	filled, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	data := secretData(g, find(filled.Objects, "Secret", name.Namespace, name.Name))
	g.Expect(data).To(HaveKeyWithValue(KeyPassword, []byte("kept")))
	g.Expect(data[keyReplicationPassword]).To(HaveLen(32))
}

func TestRandomString(t *testing.T) {
	g := NewWithT(t)
	s, err := randomString(newSeededRand(7), 4096)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s).To(HaveLen(4096))
	counts := map[rune]int{}
	for _, r := range s {
		g.Expect(passwordAlphabet).To(ContainSubstring(string(r)))
		counts[r]++
	}
	g.Expect(counts).To(HaveLen(len(passwordAlphabet)), "every character is drawn")
	_, err = randomString(strings.NewReader("short"), 32)
	g.Expect(err).To(MatchError(ContainSubstring("generating a password")))
}

// secretData decodes the data of a rendered Secret.
func secretData(g Gomega, u *unstructured.Unstructured) map[string][]byte {
	g.Expect(u).NotTo(BeNil())
	sec := &corev1.Secret{}
	g.Expect(fromUnstructured(u, sec)).To(Succeed())
	return sec.Data
}
