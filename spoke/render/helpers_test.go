package render

import (
	"context"
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Test fixtures: the spoke runs on member "alpha"; remote consumers run on
// "beta".
const (
	testMember   = "alpha"
	testRemote   = "beta"
	testMSNS     = "team-a"
	testMSName   = "orders"
	testWorkNS   = "berth-member-alpha"
	testWorkName = "team-a-orders"
)

// workBuilder builds ServiceWorks for tests.
type workBuilder struct{ w *fleetv1alpha1.ServiceWork }

// newWork is a co-located work with both roles for engine.
func newWork(engine fleetv1alpha1.Engine) *workBuilder {
	versions := map[fleetv1alpha1.Engine]string{
		fleetv1alpha1.EnginePostgreSQL: "16", fleetv1alpha1.EngineRedis: "7.2", fleetv1alpha1.EngineRabbitMQ: "3.13",
	}
	return &workBuilder{w: &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Name: testWorkName, Namespace: testWorkNS},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: testMSNS, Name: testMSName},
			Service: &fleetv1alpha1.ServiceTemplate{
				Engine: engine, Version: versions[engine], Replicas: 3,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				},
				Storage: fleetv1alpha1.StorageSpec{Size: resource.MustParse("10Gi"), StorageClassName: "fast"},
				NodePool: &fleetv1alpha1.NodePoolSpec{
					Tolerations:  []corev1.Toleration{{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}},
					NodeSelector: map[string]string{"pool": "db"},
				},
				DeletionPolicy: fleetv1alpha1.DeletionPolicyRetain,
			},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: testMember, Namespaces: []string{"shop", "billing"}},
			Provider: &fleetv1alpha1.ProviderReference{Cluster: testMember},
		},
	}}
}

// remoteProvider makes the work a Provider for a consumer on testRemote.
func (b *workBuilder) remoteProvider() *workBuilder {
	b.w.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider}
	b.w.Spec.Consumer.Cluster = testRemote
	b.w.Spec.Provider = nil
	return b
}

// remoteConsumer makes the work a Consumer of a provider on testRemote.
func (b *workBuilder) remoteConsumer(ep *fleetv1alpha1.Endpoint) *workBuilder {
	b.w.Spec.Roles = []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleConsumer}
	b.w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testRemote, Endpoint: ep, CredentialsSecret: "orders-credentials"}
	return b
}

func (b *workBuilder) replicas(n int32) *workBuilder { b.w.Spec.Service.Replicas = n; return b }

func (b *workBuilder) build() *fleetv1alpha1.ServiceWork { return b.w }

// Capability sets.
var (
	capsNone      = fleetv1alpha1.Capabilities{}
	capsOperators = fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{
		fleetv1alpha1.OperatorZalandoPostgres, fleetv1alpha1.OperatorSpotahomeRedis, fleetv1alpha1.OperatorRabbitMQ,
	}}
	capsLB     = fleetv1alpha1.Capabilities{LoadBalancer: true}
	capsCilium = fleetv1alpha1.Capabilities{Cilium: true, CiliumClusterName: "alpha-mesh"}
	capsMesh   = fleetv1alpha1.Capabilities{Cilium: true, ClusterMesh: true, CiliumClusterName: "alpha-mesh"}
)

// withOperators adds every operator to caps.
func withOperators(caps fleetv1alpha1.Capabilities) fleetv1alpha1.Capabilities {
	caps.Operators = capsOperators.Operators
	return caps
}

// seededRand is a deterministic password source.
type seededRand struct{ r *rand.ChaCha8 }

func newSeededRand(seed byte) *seededRand {
	var s [32]byte
	s[0] = seed
	return &seededRand{r: rand.NewChaCha8(s)}
}

func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

// inputs are the default render inputs for a work.
func inputs(w *fleetv1alpha1.ServiceWork, caps fleetv1alpha1.Capabilities) Inputs {
	return Inputs{Work: w, Member: testMember, Capabilities: caps, Rand: newSeededRand(1)}
}

// find returns the rendered object of a kind and name, or nil.
func find(objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

// kinds lists "Kind/namespace/name" of the objects.
func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s/%s/%s", o.GetKind(), o.GetNamespace(), o.GetName()))
	}
	return out
}

// mapGetter is a Getter over a fixed set of objects.
type mapGetter map[string]*unstructured.Unstructured

func getterKey(gvk schema.GroupVersionKind, namespace, name string) string {
	return gvk.String() + "/" + namespace + "/" + name
}

// add stores an object.
func (m mapGetter) add(u *unstructured.Unstructured) mapGetter {
	m[getterKey(u.GroupVersionKind(), u.GetNamespace(), u.GetName())] = u
	return m
}

func (m mapGetter) Get(_ context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	if u, ok := m[getterKey(gvk, namespace, name)]; ok {
		return u.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, name)
}

// obj builds a live object with fields set at paths.
func obj(gvk schema.GroupVersionKind, namespace, name string, fields map[string]interface{}) *unstructured.Unstructured {
	u := newUnstructured(gvk, namespace, name)
	for path, v := range fields {
		if err := unstructured.SetNestedField(u.Object, v, splitPath(path)...); err != nil {
			panic(err)
		}
	}
	return u
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// fromUnstructured converts a rendered object back to its typed form.
func fromUnstructured(u *unstructured.Unstructured, into interface{}) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
