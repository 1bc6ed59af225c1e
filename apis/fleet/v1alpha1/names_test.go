package v1alpha1

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestServiceLabelValue(t *testing.T) {
	long := strings.Repeat("n", 63)
	testCases := []struct {
		name, ns, svc, want string
	}{
		{name: "short key is readable", ns: "shop", svc: "orders", want: "shop.orders"},
		{name: "63 characters kept", ns: strings.Repeat("a", 30), svc: strings.Repeat("b", 32), want: strings.Repeat("a", 30) + "." + strings.Repeat("b", 32)},
		{name: "long key hashed", ns: long, svc: "db"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := ServiceLabelValue(tc.ns, tc.svc)
			g.Expect(validation.IsValidLabelValue(got)).To(BeEmpty())
			if tc.want != "" {
				g.Expect(got).To(Equal(tc.want))
			}
		})
	}
	g := NewWithT(t)
	g.Expect(ServiceLabelValue(long, "db")).NotTo(Equal(ServiceLabelValue(long, "dc")), "hash keeps keys apart")
	g.Expect(MemberNamespace("workload-1")).To(Equal("berth-member-workload-1"))
}
