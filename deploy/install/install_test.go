package install

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestKindHubServer(t *testing.T) {
	testCases := []struct {
		name, v4, v6 string
		want         string
		wantErr      string
	}{
		{name: "IPv4 on the kind network", v4: "172.18.0.3", v6: "fc00:f853:ccd:e793::3", want: "https://172.18.0.3:6443"},
		{name: "IPv6 only", v6: "fc00:f853:ccd:e793::3", want: "https://[fc00:f853:ccd:e793::3]:6443"},
		{name: "no address", wantErr: "no address on the Docker network"},
		{name: "loopback", v4: "127.0.0.1", wantErr: "not reachable from other containers"},
		{name: "not an IP", v4: "berth-mgmt-control-plane", wantErr: `"berth-mgmt-control-plane" is not an IP address`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := KindHubServer(tc.v4, tc.v6)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestHubValues(t *testing.T) {
	g := NewWithT(t)
	v := HubValues("https://172.18.0.3:6443", Images{Hub: "docker.io/library/berth-hub:e2e", Spoke: "docker.io/library/berth-spoke:e2e", PullPolicy: "Never"}, 1)
	hub := v["hub"].(map[string]any)
	g.Expect(hub["server"]).To(Equal("https://172.18.0.3:6443"))
	g.Expect(hub["replicas"]).To(Equal(1))
	g.Expect(hub["image"]).To(Equal(map[string]any{"repository": "docker.io/library/berth-hub", "tag": "e2e", "pullPolicy": "Never"}))
	g.Expect(hub["spokeImage"]).To(Equal(map[string]any{"reference": "docker.io/library/berth-spoke:e2e"}))
}

func TestSplitRef(t *testing.T) {
	g := NewWithT(t)
	for ref, want := range map[string][2]string{
		"berth-hub:e2e":                        {"berth-hub", "e2e"},
		"registry:5000/berth/berth-hub":        {"registry:5000/berth/berth-hub", ""},
		"registry:5000/berth/berth-hub:v1.2.3": {"registry:5000/berth/berth-hub", "v1.2.3"},
	} {
		repo, tag := splitRef(ref)
		g.Expect([2]string{repo, tag}).To(Equal(want), ref)
	}
}

// TestRenderKindValues renders the chart with the values the kind provider
// uses: the Deployment hands spokes the kind network address and runs the
// loaded images without pulling.
func TestRenderKindValues(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	g := NewWithT(t)
	root, err := RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	server, err := KindHubServer("172.18.0.3", "")
	g.Expect(err).NotTo(HaveOccurred())
	objs, err := Render(t.Context(), root, HubValues(server, Images{Hub: "docker.io/library/berth-hub:e2e", Spoke: "docker.io/library/berth-spoke:e2e", PullPolicy: "Never"}, 1))
	g.Expect(err).NotTo(HaveOccurred())
	dep, err := Find(objs, "Deployment", "berth-hub")
	g.Expect(err).NotTo(HaveOccurred())
	containers, _, _ := unstructuredSlice(dep.Object, "spec", "template", "spec", "containers")
	g.Expect(containers).To(HaveLen(1))
	c := containers[0].(map[string]any)
	g.Expect(c["image"]).To(Equal("docker.io/library/berth-hub:e2e"))
	g.Expect(c["imagePullPolicy"]).To(Equal("Never"))
	g.Expect(c["args"]).To(ContainElements("--hub-server=https://172.18.0.3:6443", "--spoke-image=docker.io/library/berth-spoke:e2e", "--leader-elect"))
	replicas, _, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas")
	g.Expect(replicas).To(BeNumerically("==", 1))
	_, err = Find(objs, "CustomResourceDefinition", "managedservices.fleet.berth.io")
	g.Expect(err).NotTo(HaveOccurred(), "CRDs are rendered too")
}

func unstructuredSlice(obj map[string]any, fields ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(obj, fields...)
}
