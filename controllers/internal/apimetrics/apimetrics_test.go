package apimetrics

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestParse(t *testing.T) {
	g := NewWithT(t)
	raw := []byte(`# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="fleet.berth.io",resource="serviceworks",scope="resource",subresource="",verb="APPLY",version="v1alpha1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="fleet.berth.io",resource="serviceworks",scope="resource",subresource="",verb="APPLY",version="v1alpha1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="fleet.berth.io",resource="managedservices",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="secrets",scope="namespace",subresource="",verb="LIST",version="v1"} 40
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 99
apiserver_request_total_other{verb="POST"} 5
`)
	c, err := parse(raw)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c).To(Equal(Counts{
		{Verb: "APPLY", Resource: "serviceworks"}:                           5,
		{Verb: "PATCH", Resource: "managedservices", Subresource: "status"}: 1,
	}))
	g.Expect(c.Total()).To(Equal(6.0))
	g.Expect(c.String()).To(Equal("APPLY serviceworks: 5, PATCH managedservices/status: 1"))

	later := Counts{{Verb: "APPLY", Resource: "serviceworks"}: 5, {Verb: "PATCH", Resource: "managedservices", Subresource: "status"}: 3}
	g.Expect(later.Sub(c)).To(Equal(Counts{{Verb: "PATCH", Resource: "managedservices", Subresource: "status"}: 2}))
	g.Expect(Counts{}.String()).To(Equal("none"))
}
