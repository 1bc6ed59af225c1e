package samples

import (
	"testing"
	"testing/fstest"

	. "github.com/onsi/gomega"
)

// TestEmbeddedSampleSet reads the embedded set: namespaces and policies
// come first.
func TestEmbeddedSampleSet(t *testing.T) {
	g := NewWithT(t)
	objs, err := Load(FS)
	g.Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, o := range objs {
		names = append(names, o.String())
	}
	g.Expect(names).To(Equal([]string{
		"Namespace team",
		"PlacementPolicy dedicated-low-latency",
		"ManagedService team/cart-cache",
		"ManagedService team/events",
		"ManagedService team/orders-db",
	}))
	g.Expect(objs[2].File).To(Equal("cart-cache.yaml"))
}

func TestLoadErrors(t *testing.T) {
	testCases := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "empty directory", wantErr: "no manifests"},
		{name: "only a kustomization", files: map[string]string{"kustomization.yaml": "resources: []\n"}, wantErr: "no manifests"},
		{name: "no kind", files: map[string]string{"a.yaml": "apiVersion: v1\nmetadata:\n  name: x\n"}, wantErr: "a.yaml: document 0: kind is missing"},
		{name: "no apiVersion", files: map[string]string{"a.yaml": "kind: Namespace\n"}, wantErr: "a.yaml: document 0: apiVersion is missing"},
		{name: "no name in the second document", files: map[string]string{"a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: Namespace\n"},
			wantErr: "a.yaml: document 1 (Namespace): metadata.name is missing"},
		{name: "not YAML", files: map[string]string{"a.yaml": "kind: [\n"}, wantErr: "a.yaml: document 0:"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			fsys := fstest.MapFS{}
			for name, content := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(content)}
			}
			_, err := Load(fsys)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
