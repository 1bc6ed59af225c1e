package inventory

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func crd(name string, established bool) *apiextensionsv1.CustomResourceDefinition {
	status := apiextensionsv1.ConditionFalse
	if established {
		status = apiextensionsv1.ConditionTrue
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.Established, Status: status},
		}},
	}
}

func TestDetectCapabilities(t *testing.T) {
	deleting := crd("rabbitmqclusters.rabbitmq.com", true)
	deleting.DeletionTimestamp = &metav1.Time{}
	meshSecret := &corev1.Secret{Data: map[string][]byte{"cluster-2": nil}}
	ciliumConfig := &corev1.ConfigMap{Data: map[string]string{CiliumClusterNameKey: "east"}}
	testCases := []struct {
		name   string
		crds   []*apiextensionsv1.CustomResourceDefinition
		mesh   *corev1.Secret
		config *corev1.ConfigMap
		want   fleetv1alpha1.Capabilities
	}{
		{name: "nothing installed", want: fleetv1alpha1.Capabilities{}},
		{
			name: "every operator, sorted, other CRDs ignored",
			crds: []*apiextensionsv1.CustomResourceDefinition{
				crd("rabbitmqclusters.rabbitmq.com", true), crd("widgets.example.com", true),
				crd("redisfailovers.databases.spotahome.com", true), crd("postgresqls.acid.zalan.do", true),
			},
			want: fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{
				fleetv1alpha1.OperatorRabbitMQ, fleetv1alpha1.OperatorSpotahomeRedis, fleetv1alpha1.OperatorZalandoPostgres,
			}},
		},
		{
			name: "a CRD that is not established or is being deleted does not count",
			crds: []*apiextensionsv1.CustomResourceDefinition{crd("postgresqls.acid.zalan.do", false), deleting},
			want: fleetv1alpha1.Capabilities{},
		},
		{
			name:   "cilium with a populated clustermesh secret",
			crds:   []*apiextensionsv1.CustomResourceDefinition{crd(CiliumCRD, true)},
			mesh:   meshSecret,
			config: ciliumConfig,
			want:   fleetv1alpha1.Capabilities{Cilium: true, ClusterMesh: true, CiliumClusterName: "east"},
		},
		{
			name: "an empty clustermesh secret is no mesh",
			crds: []*apiextensionsv1.CustomResourceDefinition{crd(CiliumCRD, true)},
			mesh: &corev1.Secret{},
			want: fleetv1alpha1.Capabilities{Cilium: true},
		},
		{
			name:   "no mesh and no name without cilium",
			mesh:   meshSecret,
			config: ciliumConfig,
			want:   fleetv1alpha1.Capabilities{},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(DetectCapabilities(tc.crds, tc.mesh, tc.config)).To(Equal(tc.want))
		})
	}
}

func TestSlimKeepsWhatTheInventoryReads(t *testing.T) {
	g := NewWithT(t)
	pod := newPod("p", "n").container(rl("1", "1Gi", "")).sidecar(rl("100m", "", "")).overhead(rl("10m", "", "")).build()
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}}
	pod.Spec.Containers[0].Image = "busybox"
	pod.ResourceVersion = "42"
	out, err := slim(pod)
	g.Expect(err).NotTo(HaveOccurred())
	sp := out.(*corev1.Pod)
	g.Expect(sp.ManagedFields).To(BeNil())
	g.Expect(sp.Spec.Containers[0].Image).To(BeEmpty())
	g.Expect(sp.ResourceVersion).To(Equal("42"))
	g.Expect(PodRequests(sp)).To(Equal(PodRequests(pod)), "slimming must not change the computed requests")

	secret := &corev1.Secret{Data: map[string][]byte{"remote": []byte("etcd config")}}
	out, err = slim(secret)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.(*corev1.Secret).Data).To(Equal(map[string][]byte{"remote": nil}), "secret values are never kept")

	other := &corev1.Service{}
	out, err = slim(other)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(BeIdenticalTo(other))
}
