package cli

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestJoinOptionsValidate(t *testing.T) {
	valid := joinOptions{hubKubeconfig: "b.kubeconfig", name: "edge-1", role: "Workload"}
	testCases := []struct {
		name    string
		mutate  func(*joinOptions)
		wantErr string
	}{
		{name: "minimal", mutate: func(*joinOptions) {}},
		{name: "full", mutate: func(o *joinOptions) {
			o.wait, o.output, o.kubeconfig, o.spokeImage = time.Minute, "hub.kubeconfig", "member.kubeconfig", "img"
		}},
		{name: "no hub kubeconfig", mutate: func(o *joinOptions) { o.hubKubeconfig = "" }, wantErr: "--hub-kubeconfig"},
		{name: "no name", mutate: func(o *joinOptions) { o.name = "" }, wantErr: "--name"},
		{name: "negative wait", mutate: func(o *joinOptions) { o.wait = -time.Second }, wantErr: "--wait"},
		{name: "output without wait", mutate: func(o *joinOptions) { o.output = "x" }, wantErr: "--wait"},
		{name: "kubeconfig without image", mutate: func(o *joinOptions) { o.wait, o.kubeconfig = time.Minute, "k" }, wantErr: "--spoke-image"},
		{name: "image without kubeconfig", mutate: func(o *joinOptions) { o.spokeImage = "img" }, wantErr: "--kubeconfig"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			o := valid
			tc.mutate(&o)
			err := o.validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestJoinCommandTree(t *testing.T) {
	g := NewWithT(t)
	root := NewRootCommand("berthctl")
	cmd, _, err := root.Find([]string{"join", "token"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmd.Name()).To(Equal("token"))
	cmd, _, err = root.Find([]string{"accept"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmd.Name()).To(Equal("accept"))
	root.SetArgs([]string{"join", "token", "--ttl", "1m"})
	g.Expect(root.Execute()).To(MatchError(ContainSubstring("--ttl")))
}
