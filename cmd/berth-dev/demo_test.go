package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
)

// TestSampleSet reads the real deploy/samples: namespaces and policies come
// first, and the consumer namespaces the demo creates follow from the
// services.
func TestSampleSet(t *testing.T) {
	g := NewWithT(t)
	// The built-in set is deploy/samples.
	samples, err := loadSamples("")
	g.Expect(err).NotTo(HaveOccurred())
	fromDir, err := loadSamples(filepath.Join(framework.RepoRoot(), "deploy", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fromDir).To(HaveLen(len(samples)))
	var names []string
	for _, s := range samples {
		names = append(names, s.String())
	}
	g.Expect(names).To(Equal([]string{
		"Namespace team",
		"PlacementPolicy dedicated-low-latency",
		"ManagedService team/cart-cache",
		"ManagedService team/events",
		"ManagedService team/orders-db",
	}))
	g.Expect(sampleServices(samples)).To(Equal([]client.ObjectKey{
		{Namespace: "team", Name: "cart-cache"}, {Namespace: "team", Name: "events"}, {Namespace: "team", Name: "orders-db"},
	}))
	consumers, err := consumerNamespaces(samples)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(consumers).To(Equal(map[string][]string{"workload-1": {"shop"}, "workload-2": {"cart"}}))
	// Every consumer cluster is a cluster of the dev fleet.
	spec := framework.DevFleetSpec(0)
	for cluster := range consumers {
		g.Expect(spec.Clusters).To(ContainElement(HaveField("Name", cluster)))
	}
}

func TestLoadSamplesErrors(t *testing.T) {
	testCases := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "empty directory", wantErr: ": no manifests"},
		{name: "only a kustomization", files: map[string]string{"kustomization.yaml": "resources: []\n"}, wantErr: ": no manifests"},
		{name: "no kind", files: map[string]string{"a.yaml": "apiVersion: v1\nmetadata:\n  name: x\n"}, wantErr: ": a.yaml: document 0: kind is missing"},
		{name: "service without consumer", files: map[string]string{"a.yaml": "apiVersion: fleet.berth.io/v1alpha1\nkind: ManagedService\nmetadata:\n  name: x\n  namespace: team\n"},
			wantErr: "--samples: a.yaml: ManagedService team/x: spec.consumer.cluster and spec.consumer.namespaces are required"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			for name, content := range tc.files {
				g.Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)).To(Succeed())
			}
			samples, err := loadSamples(dir)
			if err == nil {
				_, err = consumerNamespaces(samples)
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestAgentKey(t *testing.T) {
	testCases := []struct {
		name string
		bin  string
		args []string
		want string
	}{
		{name: "hub", bin: "berth-hub", args: []string{"--kubeconfig", "x"}, want: "berth-hub"},
		{name: "supervisor", bin: "berth-dev", args: []string{"demo", "agents"}, want: "berth-dev"},
		{name: "spoke", bin: "berth-spoke", args: []string{"--member-name", "workload-1", "--kubeconfig", "x"}, want: "berth-spoke/workload-1"},
		{name: "spoke with =", bin: "berth-spoke", args: []string{"--member-name=mgmt"}, want: "berth-spoke/mgmt"},
		{name: "spoke without a member", bin: "berth-spoke", want: "berth-spoke/?"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(agentKey(tc.bin, tc.args)).To(Equal(tc.want))
		})
	}
}

// TestCopyIfChanged: the copy keeps the source's time, is skipped when
// nothing changed, and replaces the file by rename (a new inode, so a
// running copy keeps its binary).
func TestCopyIfChanged(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	g.Expect(os.WriteFile(src, []byte("v1"), 0o755)).To(Succeed())
	g.Expect(copyIfChanged(src, dst)).To(Succeed())
	first, err := os.Stat(dst)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.ReadFile(dst)).To(Equal([]byte("v1")))

	g.Expect(copyIfChanged(src, dst)).To(Succeed())
	again, err := os.Stat(dst)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.SameFile(first, again)).To(BeTrue(), "unchanged source: no copy")

	g.Expect(os.WriteFile(src, []byte("v2"), 0o755)).To(Succeed())
	later := time.Now().Add(time.Minute)
	g.Expect(os.Chtimes(src, later, later)).To(Succeed())
	g.Expect(copyIfChanged(src, dst)).To(Succeed())
	replaced, err := os.Stat(dst)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.SameFile(first, replaced)).To(BeFalse(), "replaced by rename")
	g.Expect(os.ReadFile(dst)).To(Equal([]byte("v2")))
	g.Expect(replaced.Mode().Perm()).To(Equal(os.FileMode(0o755)))

	g.Expect(copyIfChanged(filepath.Join(dir, "nope"), dst)).To(MatchError(ContainSubstring("--bin-dir: nope is missing (run `make build`)")))
}

func TestServiceProgress(t *testing.T) {
	placed := func(name, cluster string, ready metav1.ConditionStatus, reason string) *fleetv1alpha1.ManagedService {
		ms := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name}}
		ms.Status.Placement.Cluster = cluster
		ms.Status.Conditions = []metav1.Condition{
			{Type: fleetv1alpha1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonScheduled},
			{Type: fleetv1alpha1.ConditionPropagated, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied},
			{Type: fleetv1alpha1.ConditionReady, Status: ready, Reason: reason},
		}
		return ms
	}
	ready := placed("orders-db", "workload-1", metav1.ConditionTrue, fleetv1alpha1.ReasonEngineReady)
	pending := placed("events", "mgmt", metav1.ConditionFalse, fleetv1alpha1.ReasonEngineNotReady)
	unplaced := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cart-cache"}}
	testCases := []struct {
		name string
		ms   *fleetv1alpha1.ManagedService
		want string
	}{
		{name: "ready", ms: ready, want: "team/orders-db  Placed: workload-1  Propagated: True  Ready: True"},
		{name: "engine not ready", ms: pending, want: "team/events  Placed: mgmt  Propagated: True  Ready: False (EngineNotReady)"},
		{name: "no status", ms: unplaced, want: "team/cart-cache  Placed: -  Propagated: -  Ready: -"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(serviceProgress(tc.ms)).To(Equal(tc.want))
		})
	}
}
