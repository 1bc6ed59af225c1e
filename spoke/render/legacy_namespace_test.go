package render

import (
	"testing"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// TestPlatformNamespaceOverride: Inputs.PlatformNamespace moves every
// provider object and the co-located binding's target into the legacy
// namespace, and accepts no other name.
func TestPlatformNamespaceOverride(t *testing.T) {
	g := NewWithT(t)
	w := newWork(fleetv1alpha1.EngineRedis).build()
	ref := w.Spec.ServiceRef
	legacy := LegacyPlatformNamespace(ref)
	g.Expect(legacy).To(Equal("berth-" + ref.Namespace + "-" + ref.Name))
	g.Expect(legacy).NotTo(Equal(PlatformNamespace(ref)))

	in := inputs(w, fleetv1alpha1.Capabilities{})
	in.PlatformNamespace = legacy
	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Namespace).To(Equal(legacy))
	g.Expect(find(res.Objects, "Namespace", "", legacy)).NotTo(BeNil())
	g.Expect(find(res.Objects, "Secret", legacy, GeneratedSecretName(ref).Name)).NotTo(BeNil())
	g.Expect(find(res.Objects, "StatefulSet", legacy, ref.Name)).NotTo(BeNil())
	for _, o := range res.Objects {
		g.Expect(o.GetNamespace()).NotTo(Equal(PlatformNamespace(ref)), "%s %s", o.GetKind(), o.GetName())
		g.Expect(o.GetName()).NotTo(Equal(PlatformNamespace(ref)), "%s", o.GetKind())
	}

	in.PlatformNamespace = "berth-elsewhere"
	_, err = Render(in)
	g.Expect(err).To(MatchError(ContainSubstring("inputs.platformNamespace")))
}
