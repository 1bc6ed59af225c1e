package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// TestBenchFlagErrors checks that an invalid benchmark option comes back
// naming the berthctl flag that sets it. Each is rejected before any lab,
// apiserver or hub starts.
func TestBenchFlagErrors(t *testing.T) {
	hub := filepath.Join(t.TempDir(), "berth-hub")
	if err := os.WriteFile(hub, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "controlplane", "--hub-binary", hub, "--members", "2"}, "flag --members: each fleet size must be at least 3"},
		{[]string{"bench", "controlplane", "--hub-binary", hub, "--services", "-1"}, "flag --services: must not be negative"},
		{[]string{"bench", "controlplane", "--hub-binary", hub + "-missing"}, "flag --hub-binary: "},
		{[]string{"bench", "controlplane", "--hub-binary", hub, "--lease-duration", "10ms"}, "flag --lease-duration: must be at least 1s"},
		{[]string{"bench", "dataplane", "--repeats", "101"}, "flag --repeats: must be 1..100"},
		{[]string{"bench", "dataplane", "--ops", "-1"}, "flag --ops: must be at least 1"},
		{[]string{"bench", "dataplane", "--engines", "etcd"}, `flag --engines: unknown engine "etcd"`},
		{[]string{"bench", "blastradius", "--experiments", "etcd"}, `flag --experiments: unknown experiment "etcd"`},
	} {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(tc.args)
		err := root.ExecuteContext(context.Background())
		NewWithT(t).Expect(err).To(MatchError(HavePrefix(tc.want)), "%v", tc.args)
	}
}
