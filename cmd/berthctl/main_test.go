package main

import (
	"os/exec"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestInvocation(t *testing.T) {
	testCases := []struct {
		argv0    string
		args     []string
		wantName string
		wantArgs []string
	}{
		{argv0: "/usr/local/bin/berthctl", args: []string{"get", "members"}, wantName: "berthctl", wantArgs: []string{"get", "members"}},
		{argv0: "bin/kubectl-berth", args: []string{"get", "members"}, wantName: "kubectl berth", wantArgs: []string{"get", "members"}},
		{argv0: "kubectl_complete-berth", args: []string{"get", "members", ""}, wantName: "kubectl berth", wantArgs: []string{"__complete", "get", "members", ""}},
	}
	for _, tc := range testCases {
		t.Run(tc.argv0, func(t *testing.T) {
			g := NewWithT(t)
			name, args := invocation(tc.argv0, tc.args)
			g.Expect(name).To(Equal(tc.wantName))
			g.Expect(args).To(Equal(tc.wantArgs))
		})
	}
}

// TestShippedCLILinksNoTestCode: berthctl is what platform teams install;
// it must not link the test harness.
func TestShippedCLILinksNoTestCode(t *testing.T) {
	g := NewWithT(t)
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", out)
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		g.Expect(dep).NotTo(Equal("testing"))
		g.Expect(dep).NotTo(ContainSubstring("envtest"))
		g.Expect(dep).NotTo(HavePrefix("github.com/berth-io/berth/e2e"))
		g.Expect(dep).NotTo(HavePrefix("github.com/berth-io/berth/bench"))
		g.Expect(dep).NotTo(HavePrefix("github.com/onsi/"))
	}
}
