package hub

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestSecretTransformKeepsOnlyWhatTheHubReads(t *testing.T) {
	secret := func(name string, typ corev1.SecretType, l map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: l, Annotations: map[string]string{
				lastApplied: `{"data":{"x":"eA=="}}`, "keep": "me",
			}},
			Type: typ,
			Data: map[string][]byte{"x": []byte("x")},
		}
	}
	testCases := []struct {
		name     string
		in       *corev1.Secret
		wantData bool
	}{
		{name: "helm release", in: secret("sh.helm.release.v1.app.v1", "helm.sh/release.v1", map[string]string{"owner": "helm"})},
		{name: "tls certificate", in: secret("web-tls", corev1.SecretTypeTLS, nil)},
		{name: "CAPI kubeconfig by name", in: secret("prod-1-kubeconfig", corev1.SecretTypeOpaque, nil), wantData: true},
		{name: "CAPI secret type", in: secret("prod-1-ca", clusterv1.ClusterSecretType, nil), wantData: true},
		{name: "CAPI cluster label", in: secret("prod-1-etcd", corev1.SecretTypeOpaque, map[string]string{clusterv1.ClusterNameLabel: "prod-1"}), wantData: true},
		{name: "hub kubeconfig of a member", in: secret("hub-kubeconfig", corev1.SecretTypeOpaque, map[string]string{fleetv1alpha1.LabelMember: "edge-1"}), wantData: true},
		{name: "published credentials", in: secret("team.db.published", corev1.SecretTypeOpaque, map[string]string{fleetv1alpha1.LabelManagedService: "team.db"}), wantData: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			// The map is keyed by pointer: find the Secret entry by type.
			var fn func(any) (any, error)
			for obj, by := range CacheOptions().ByObject {
				if _, ok := obj.(*corev1.Secret); ok {
					fn = by.Transform
				}
			}
			g.Expect(fn).NotTo(BeNil())
			tc.in.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
			out, err := fn(tc.in)
			g.Expect(err).NotTo(HaveOccurred())
			s := out.(*corev1.Secret)
			g.Expect(s.ManagedFields).To(BeEmpty(), "managed fields are always dropped")
			g.Expect(s.Annotations).To(HaveKeyWithValue("keep", "me"))
			if tc.wantData {
				g.Expect(s.Data).To(HaveKey("x"))
				return
			}
			g.Expect(s.Data).To(BeNil())
			g.Expect(s.Annotations).NotTo(HaveKey(lastApplied))
			g.Expect(s.Name).To(Equal(tc.in.Name), "the metadata stays for watches and name lookups")
		})
	}
}

func TestCacheSelectsOnlyOwnedConfigMapsAndRBAC(t *testing.T) {
	g := NewWithT(t)
	opts := CacheOptions()
	kinds := map[string]bool{}
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *corev1.ConfigMap, *rbacv1.Role, *rbacv1.RoleBinding, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			kinds[fmt.Sprintf("%T", obj)] = true
			g.Expect(by.Label).NotTo(BeNil())
			g.Expect(by.Label.Matches(labels.Set{fleetv1alpha1.LabelMember: "edge-1"})).To(BeTrue())
			g.Expect(by.Label.Matches(labels.Set{"app": "other"})).To(BeFalse())
		}
	}
	g.Expect(kinds).To(HaveLen(5))
	g.Expect(opts.DefaultTransform).NotTo(BeNil())
}

func TestIsInClusterHost(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	g.Expect(isInClusterHost("https://10.96.0.1:443")).To(BeTrue())
	g.Expect(isInClusterHost("https://mgmt.example.com:6443")).To(BeFalse())
	t.Setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
	g.Expect(isInClusterHost("https://[fd00::1]:443")).To(BeTrue())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	g.Expect(isInClusterHost("https://10.96.0.1:443")).To(BeFalse(), "outside a cluster nothing is in-cluster")
}

func TestStateMetrics(t *testing.T) {
	g := NewWithT(t)
	scheme, err := NewScheme()
	g.Expect(err).NotTo(HaveOccurred())
	cond := func(t string, s metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: t, Status: s, Reason: "R", LastTransitionTime: metav1.Now()}
	}
	ready := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "db"},
		Spec: fleetv1alpha1.ManagedServiceSpec{Engine: fleetv1alpha1.EnginePostgreSQL}}
	ready.Status.Conditions = []metav1.Condition{cond(fleetv1alpha1.ConditionReady, metav1.ConditionTrue)}
	ready.Status.Placement.Cluster = "workload-1"
	pending := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cache"},
		Spec: fleetv1alpha1.ManagedServiceSpec{Engine: fleetv1alpha1.EngineRedis}}
	conflicted := &fleetv1alpha1.ServiceWork{ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-workload-1", Name: "team.db"}}
	conflicted.Status.Conditions = []metav1.Condition{cond(fleetv1alpha1.ConditionConflict, metav1.ConditionTrue), cond(fleetv1alpha1.ConditionApplied, metav1.ConditionFalse)}
	fine := &fleetv1alpha1.ServiceWork{ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-mgmt", Name: "team.cache",
		Labels: map[string]string{fleetv1alpha1.LabelMember: "mgmt"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ready, pending, conflicted, fine).WithStatusSubresource(ready, conflicted).Build()

	m := NewStateMetrics(c)
	reg := prometheus.NewPedanticRegistry()
	g.Expect(m.Register(reg)).To(Succeed())
	g.Expect(m.Register(reg)).To(Succeed(), "registering twice keeps the first")
	g.Expect(testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP berth_managed_service_ready 1 when the ManagedService's Ready condition is True, else 0; cluster is where it is placed.
# TYPE berth_managed_service_ready gauge
berth_managed_service_ready{cluster="",engine="Redis",name="cache",namespace="team"} 0
berth_managed_service_ready{cluster="workload-1",engine="PostgreSQL",name="db",namespace="team"} 1
`), MetricServiceReady)).To(Succeed())
	g.Expect(testutil.CollectAndCount(m, MetricServiceWorks)).To(Equal(2 * 4 * 4))
	counts := countWorks([]fleetv1alpha1.ServiceWork{*conflicted, *fine})
	g.Expect(counts).To(HaveKeyWithValue([3]string{"workload-1", fleetv1alpha1.ConditionConflict, "True"}, 1))
	g.Expect(counts).To(HaveKeyWithValue([3]string{"workload-1", fleetv1alpha1.ConditionApplied, "False"}, 1))
	g.Expect(counts).To(HaveKeyWithValue([3]string{"mgmt", fleetv1alpha1.ConditionConflict, "None"}, 1))
	g.Expect(counts).To(HaveKeyWithValue([3]string{"mgmt", fleetv1alpha1.ConditionConflict, "True"}, 0))
}
