package registration

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestMemberName(t *testing.T) {
	long := strings.Repeat("a", 40)
	testCases := []struct {
		name        string
		namespace   string
		cluster     string
		annotations map[string]string
		want        string
		wantPrefix  string
		wantErr     string
	}{
		{name: "namespace and name", namespace: "team-a", cluster: "prod", want: "team-a-prod"},
		{name: "annotation wins", namespace: "team-a", cluster: "prod", annotations: map[string]string{fleetv1alpha1.AnnotationMemberName: "eu-1"}, want: "eu-1"},
		{name: "dots are replaced and hashed", namespace: "ns", cluster: "a.b", wantPrefix: "ns-a-b-"},
		{name: "long is truncated and hashed", namespace: long, cluster: long, wantPrefix: long + "-"},
		{name: "uppercase is lowered", namespace: "NS", cluster: "X", want: "ns-x"},
		{name: "bad annotation", namespace: "n", cluster: "c", annotations: map[string]string{fleetv1alpha1.AnnotationMemberName: "Not_OK"}, wantErr: "annotation fleet.berth.io/member-name"},
		{name: "long annotation", namespace: "n", cluster: "c", annotations: map[string]string{fleetv1alpha1.AnnotationMemberName: strings.Repeat("b", 51)}, wantErr: "longer than 50"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: tc.namespace, Name: tc.cluster, Annotations: tc.annotations}}
			got, err := MemberName(c)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(validation.IsDNS1123Label(got)).To(BeEmpty())
			g.Expect(len(got)).To(BeNumerically("<=", MaxMemberNameLength))
			if tc.want != "" {
				g.Expect(got).To(Equal(tc.want))
			}
			if tc.wantPrefix != "" {
				g.Expect(got).To(HavePrefix(tc.wantPrefix))
				g.Expect(got).To(HaveLen(len(tc.wantPrefix) + 8))
			}
		})
	}
}

func TestMemberNameKeepsDistinctClustersDistinct(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("x", 60)
	a, _ := MemberName(&clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: long + "1"}})
	b, _ := MemberName(&clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: long + "2"}})
	g.Expect(a).NotTo(Equal(b))
}

func TestMemberRole(t *testing.T) {
	testCases := []struct {
		name    string
		labels  map[string]string
		want    fleetv1alpha1.MemberRole
		wantErr string
	}{
		{name: "default", want: fleetv1alpha1.RoleWorkload},
		{name: "management", labels: map[string]string{fleetv1alpha1.LabelRole: "Management"}, want: fleetv1alpha1.RoleManagement},
		{name: "services", labels: map[string]string{fleetv1alpha1.LabelRole: "Services"}, want: fleetv1alpha1.RoleServices},
		{name: "invalid", labels: map[string]string{fleetv1alpha1.LabelRole: "gpu"}, wantErr: "label fleet.berth.io/role"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := MemberRole(&clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Labels: tc.labels}})
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}
