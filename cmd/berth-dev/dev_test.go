package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/berth-io/berth/cmd/berthctl/cli"
	"github.com/berth-io/berth/e2e/framework"
)

// run executes berth-dev with args and returns its output and the one-line
// error main would print.
func run(ctx context.Context, args ...string) (string, string) {
	cmd := newRootCommand()
	out := &bytes.Buffer{}
	cmd.SetOut(out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		return out.String(), cli.OneLine(err)
	}
	return out.String(), ""
}

func TestBadInput(t *testing.T) {
	testCases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "unknown command", args: []string{"nope"}, wantErr: `unknown command "nope" for "berth-dev"`},
		{name: "unknown dev command", args: []string{"dev", "nope"}, wantErr: `unknown command "nope" for "berth-dev dev" (available: down, status, up)`},
		{name: "extra argument", args: []string{"dev", "status", "extra"}, wantErr: `unknown command "extra" for "berth-dev dev status"`},
		{name: "unknown flag", args: []string{"dev", "up", "--nope"}, wantErr: "unknown flag: --nope"},
		{name: "fleet not running", args: []string{"dev", "status", "--fleet", "not-started"},
			wantErr: "no local fleet \"not-started\" is running; start it with `berth-dev dev up`"},
		{name: "bad fleet name", args: []string{"dev", "status", "--fleet", "../x"}, wantErr: `fleet name "../x" must be a DNS-1123 label`},
		{name: "missing tools cache", args: []string{"dev", "up", "--fleet", "no-tools"}, env: map[string]string{"BERTH_CACHE_DIR": "EMPTY"},
			wantErr: "cluster binaries are not built"},
		{name: "bad base port", args: []string{"dev", "up", "--fleet", "bad-port", "--base-port", "80"}, wantErr: "basePort: 80"},
		{name: "demo extra argument", args: []string{"demo", "extra"}, wantErr: `unknown command "extra" for "berth-dev demo"`},
		{name: "demo bad explain", args: []string{"demo", "--explain", "foo"}, wantErr: `--explain: argument "foo": expected <namespace>/<name>`},
		{name: "demo missing samples", args: []string{"demo", "--samples", "/nonexistent"}, wantErr: "--samples: /nonexistent: no manifests"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			for k, v := range tc.env {
				if v == "EMPTY" {
					v = t.TempDir()
				}
				t.Setenv(k, v)
			}
			_, errLine := run(t.Context(), tc.args...)
			g.Expect(errLine).To(ContainSubstring(tc.wantErr))
			g.Expect(errLine).NotTo(ContainSubstring("\n"))
			if tc.name == "missing tools cache" {
				g.Expect(errLine).To(ContainSubstring("make tools"))
			}
		})
	}
}

// TestDevStatusAndDown runs status and down against a real one-cluster
// fleet.
func TestDevStatusAndDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	g := NewWithT(t)
	f := framework.StartTestFleet(t, framework.FleetSpec{Clusters: []framework.ClusterSpec{
		{Name: "solo", NodePools: []framework.NodePool{framework.GeneralPool(2), framework.DatabasePool(1)}},
	}})

	out, errLine := run(t.Context(), "dev", "status", "--fleet", f.Name)
	g.Expect(errLine).To(BeEmpty())
	lines := strings.Split(out, "\n")
	g.Expect(lines[0]).To(MatchRegexp(`^CLUSTER\s+ROLE\s+API ENDPOINT\s+POOL\s+NODES`))
	g.Expect(lines[1]).To(MatchRegexp(`^solo\s+Workload\s+` + f.Clusters[0].Endpoint + `\s+database\s+1/1\s+16\s+64Gi\s+500Gi\s+nodeType=database:NoSchedule$`))
	g.Expect(lines[2]).To(MatchRegexp(`^\s+general\s+2/2\s+16\s+64Gi\s+200Gi\s+<none>$`))
	g.Expect(out).To(ContainSubstring("export KUBECONFIG=" + f.KubeconfigPath))
	g.Expect(out).To(ContainSubstring("Processes: 5,"))

	_, errLine = run(t.Context(), "dev", "status", "--fleet", f.Name, "--cluster", "nope")
	g.Expect(errLine).To(Equal(`--cluster: unknown cluster "nope" in fleet ` + f.Name + ` (known: solo)`))

	out, errLine = run(t.Context(), "dev", "down", "--fleet", f.Name)
	g.Expect(errLine).To(BeEmpty())
	g.Expect(out).To(ContainSubstring("removed"))
	procs, err := f.Processes()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(procs).To(BeEmpty())
	g.Expect(f.Dir).NotTo(BeADirectory())

	out, errLine = run(t.Context(), "dev", "down", "--fleet", f.Name)
	g.Expect(errLine).To(BeEmpty())
	g.Expect(out).To(ContainSubstring("nothing to remove"))
}
