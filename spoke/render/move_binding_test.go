package render

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// TestMoveToTheConsumersClusterKeepsTheRemoteBinding: while a service moves
// to its consumer's cluster the hub gives the consumer's work both roles
// but keeps spec.provider on the old provider until the move is
// acknowledged. The new provider is rendered here; the apps stay bound to
// the old one.
func TestMoveToTheConsumersClusterKeepsTheRemoteBinding(t *testing.T) {
	g := NewWithT(t)
	w := newWork(fleetv1alpha1.EnginePostgreSQL).build()
	w.Spec.Provider = &fleetv1alpha1.ProviderReference{
		Cluster: testRemote, Endpoint: &fleetv1alpha1.Endpoint{Host: "192.0.2.10", Port: 31234}, CredentialsSecret: "orders-credentials",
	}
	g.Expect(BindsLocally(w, testMember)).To(BeFalse())
	in := inputs(w, capsNone)
	in.Connection = pgConnection()
	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Flavour).To(Equal(FlavourBuiltIn), "the new provider is rendered")
	g.Expect(kinds(res.Objects)).To(ContainElement(HavePrefix("StatefulSet/")))
	for _, ns := range []string{"shop", "billing"} {
		svc := &corev1.Service{}
		g.Expect(fromUnstructured(find(res.Objects, "Service", ns, "orders"), svc)).To(Succeed())
		g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP), "bound to the old provider's address, not the local engine")
		g.Expect(svc.Spec.ExternalName).To(BeEmpty())
		g.Expect(find(res.Objects, "EndpointSlice", ns, "orders-remote")).NotTo(BeNil())
	}
	data := secretData(g, find(res.Objects, "Secret", "shop", "orders-credentials"))
	g.Expect(string(data[KeyPassword])).To(Equal("s3cret"), "the old provider's credentials")

	// The acknowledged move points spec.provider here: the binding is local.
	w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: testMember}
	g.Expect(BindsLocally(w, testMember)).To(BeTrue())
	res, err = Render(inputs(w, capsNone))
	g.Expect(err).NotTo(HaveOccurred())
	svc := &corev1.Service{}
	g.Expect(fromUnstructured(find(res.Objects, "Service", "shop", "orders"), svc)).To(Succeed())
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeExternalName))
	g.Expect(find(res.Objects, "EndpointSlice", "shop", "orders-remote")).To(BeNil())

	// A consumer-only work never binds locally.
	g.Expect(BindsLocally(newWork(fleetv1alpha1.EnginePostgreSQL).remoteConsumer(nil).build(), testMember)).To(BeFalse())
}
