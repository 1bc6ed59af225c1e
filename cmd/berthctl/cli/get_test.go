package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// now is the fixed clock of the table tests.
var now = time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func cond(t string, status metav1.ConditionStatus, reason, message string, since time.Duration) metav1.Condition {
	return metav1.Condition{Type: t, Status: status, Reason: reason, Message: message, LastTransitionTime: ago(since)}
}

// member builds a MemberCluster with the status a spoke and the hub write.
func member(name string, role fleetv1alpha1.MemberRole, available metav1.ConditionStatus, created time.Duration) *fleetv1alpha1.MemberCluster {
	return &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: ago(created)},
		Spec:       fleetv1alpha1.MemberClusterSpec{Role: role},
		Status: fleetv1alpha1.MemberClusterStatus{
			Conditions:   []metav1.Condition{cond(fleetv1alpha1.ConditionAvailable, available, fleetv1alpha1.ReasonLeaseFresh, "", time.Minute)},
			AgentVersion: "v0.1.0",
			PoolCount:    2,
			NodePools: []fleetv1alpha1.NodePool{
				{Name: "general", NodeCount: 3},
				{Name: "database", NodeCount: 2, Taints: []corev1.Taint{{Key: "nodeType", Value: "database", Effect: corev1.TaintEffectNoSchedule}}},
			},
			Latencies: []fleetv1alpha1.PeerLatency{
				{Peer: "workload-2", P50: metav1.Duration{Duration: 420 * time.Microsecond}, P99: metav1.Duration{Duration: 12 * time.Millisecond}, Samples: 5, MeasuredAt: ago(time.Minute)},
				{Peer: "mgmt", P50: metav1.Duration{Duration: 210 * time.Microsecond}, P99: metav1.Duration{Duration: 900 * time.Microsecond}, Samples: 5, MeasuredAt: ago(time.Minute)},
			},
		},
	}
}

// placedService builds a ManagedService placed on cluster with a Ready
// endpoint.
func placedService(ns, name string, engine fleetv1alpha1.Engine, strategy fleetv1alpha1.Strategy, cluster string) *fleetv1alpha1.ManagedService {
	return &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(3 * time.Minute)},
		Spec: fleetv1alpha1.ManagedServiceSpec{
			Engine: engine, Version: "16", Replicas: 1,
			Consumer:  fleetv1alpha1.ConsumerSpec{Cluster: "workload-1", Namespaces: []string{"shop"}},
			Placement: fleetv1alpha1.ServicePlacement{Strategy: strategy},
		},
		Status: fleetv1alpha1.ManagedServiceStatus{
			Conditions: []metav1.Condition{
				cond(fleetv1alpha1.ConditionPlaced, metav1.ConditionTrue, fleetv1alpha1.ReasonScheduled, "Placed on "+cluster, 3*time.Minute),
				cond(fleetv1alpha1.ConditionPropagated, metav1.ConditionTrue, fleetv1alpha1.ReasonWorkApplied, "2 ServiceWork(s) applied at generation 1", 2*time.Minute),
				cond(fleetv1alpha1.ConditionReady, metav1.ConditionTrue, fleetv1alpha1.ReasonEngineReady, "1 replica(s) ready", time.Minute),
			},
			Placement:     fleetv1alpha1.PlacementDecision{Cluster: cluster, Strategy: strategy, Score: 200, DecidedAt: ptrTime(ago(3 * time.Minute))},
			Endpoint:      &fleetv1alpha1.Endpoint{Host: name, Port: 5432, SecretName: name + "-credentials"},
			ReadyReplicas: 1,
		},
	}
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }

func TestParseServiceRef(t *testing.T) {
	testCases := []struct {
		name    string
		arg     string
		want    client.ObjectKey
		wantErr string
	}{
		{name: "namespace and name", arg: "team/orders-db", want: client.ObjectKey{Namespace: "team", Name: "orders-db"}},
		{name: "no slash", arg: "foo", wantErr: `argument "foo": expected <namespace>/<name> of a ManagedService, e.g. team/orders-db`},
		{name: "empty namespace", arg: "/foo", wantErr: `argument "/foo": expected <namespace>/<name>`},
		{name: "empty name", arg: "team/", wantErr: `argument "team/": expected <namespace>/<name>`},
		{name: "two slashes", arg: "a/b/c", wantErr: `argument "a/b/c": expected <namespace>/<name>`},
		{name: "bad namespace", arg: "Team/x", wantErr: `argument "Team/x": namespace "Team" is not a DNS-1123 label`},
		{name: "bad name", arg: "team/x_y", wantErr: `argument "team/x_y": name "x_y" is not a DNS-1123 label`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseServiceRef(tc.arg)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestParseOutput(t *testing.T) {
	testCases := []struct {
		in       string
		wantKind string
		wantErr  string
	}{
		{in: "", wantKind: outputTable},
		{in: "wide", wantKind: outputWide},
		{in: "json", wantKind: outputJSON},
		{in: "yaml", wantKind: outputYAML},
		{in: "name", wantKind: outputName},
		{in: "jsonpath={.items[*].metadata.name}", wantKind: outputJSONPath},
		{in: "jsonpath=", wantErr: `--output: "jsonpath=": the jsonpath template is empty`},
		{in: "jsonpath={.items[", wantErr: `--output: "jsonpath={.items[": `},
		{in: "xml", wantErr: `--output: "xml" is not supported (use wide, json, yaml, name or jsonpath=<template>, or leave it out for a table)`},
	}
	for _, tc := range testCases {
		t.Run(tc.in, func(t *testing.T) {
			g := NewWithT(t)
			got, err := parseOutput(tc.in)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(HavePrefix(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.kind).To(Equal(tc.wantKind))
		})
	}
}

// TestPrintObjects: one object asked for by name prints alone, anything
// else as a List; every item carries apiVersion and kind.
func TestPrintObjects(t *testing.T) {
	scheme := NewScheme()
	a := member("mgmt", fleetv1alpha1.RoleManagement, metav1.ConditionTrue, time.Minute)
	b := member("workload-1", fleetv1alpha1.RoleWorkload, metav1.ConditionFalse, time.Minute)
	print := func(format string, single bool, objs ...client.Object) string {
		f, err := parseOutput(format)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		out := &bytes.Buffer{}
		NewWithT(t).Expect(printObjects(out, f, scheme, objs, single)).To(Succeed())
		return out.String()
	}
	t.Run("json list", func(t *testing.T) {
		g := NewWithT(t)
		var list struct {
			Kind  string `json:"kind"`
			Items []fleetv1alpha1.MemberCluster
		}
		g.Expect(json.Unmarshal([]byte(print("json", false, a, b)), &list)).To(Succeed())
		g.Expect(list.Kind).To(Equal("List"))
		g.Expect(list.Items).To(HaveLen(2))
		g.Expect(list.Items[0].Kind).To(Equal("MemberCluster"))
		g.Expect(list.Items[0].APIVersion).To(Equal("fleet.berth.io/v1alpha1"))
		g.Expect(list.Items[1].Spec.Role).To(Equal(fleetv1alpha1.RoleWorkload))
	})
	t.Run("json of one named object", func(t *testing.T) {
		g := NewWithT(t)
		got := &fleetv1alpha1.MemberCluster{}
		g.Expect(json.Unmarshal([]byte(print("json", true, a)), got)).To(Succeed())
		g.Expect(got.Name).To(Equal("mgmt"))
		g.Expect(got.Status.AgentVersion).To(Equal(a.Status.AgentVersion))
	})
	t.Run("yaml", func(t *testing.T) {
		g := NewWithT(t)
		got := &fleetv1alpha1.MemberCluster{}
		g.Expect(yaml.UnmarshalStrict([]byte(print("yaml", true, b)), got)).To(Succeed())
		g.Expect(got.Name).To(Equal("workload-1"))
	})
	t.Run("name", func(t *testing.T) {
		NewWithT(t).Expect(print("name", false, a, b)).To(Equal("membercluster.fleet.berth.io/mgmt\nmembercluster.fleet.berth.io/workload-1\n"))
	})
	t.Run("jsonpath", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(print(`jsonpath={.items[*].metadata.name}`, false, a, b)).To(Equal("mgmt workload-1"))
		g.Expect(print(`jsonpath={.spec.role}`, true, b)).To(Equal("Workload"))
		g.Expect(print(`jsonpath={.spec.nope}`, true, b)).To(BeEmpty(), "missing keys print nothing, as in kubectl")
	})
	t.Run("empty list", func(t *testing.T) {
		g := NewWithT(t)
		var list map[string]any
		g.Expect(json.Unmarshal([]byte(print("json", false)), &list)).To(Succeed())
		g.Expect(list).To(HaveKeyWithValue("items", BeEmpty()))
	})
}

func TestWriteMembers(t *testing.T) {
	tainted := member("workload-1", fleetv1alpha1.RoleWorkload, metav1.ConditionFalse, 2*time.Hour)
	tainted.Spec.Taints = []fleetv1alpha1.MemberTaint{{Key: fleetv1alpha1.TaintKeyUnreachable, Effect: fleetv1alpha1.TaintNoPlace}}
	fresh := &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "edge", CreationTimestamp: ago(5 * time.Second)}, Spec: fleetv1alpha1.MemberClusterSpec{Role: fleetv1alpha1.RoleWorkload}}
	items := []*fleetv1alpha1.MemberCluster{member("mgmt", fleetv1alpha1.RoleManagement, metav1.ConditionTrue, 90*time.Second), tainted, fresh}

	testCases := []struct {
		name string
		wide bool
		want []string
	}{
		{name: "default", want: []string{
			`^NAME\s+ROLE\s+AVAILABLE\s+POOLS\s+AGENT\s+AGE$`,
			`^mgmt\s+Management\s+True\s+2\s+v0\.1\.0\s+90s$`,
			`^workload-1\s+Workload\s+False\s+2\s+v0\.1\.0\s+120m$`,
			`^edge\s+Workload\s+Unknown\s+0\s+<none>\s+5s$`,
		}},
		{name: "wide", wide: true, want: []string{
			`^NAME\s+ROLE\s+AVAILABLE\s+POOLS\s+AGENT\s+AGE\s+TAINTS\s+NODE POOLS\s+LATENCY P50/P99$`,
			`^mgmt\s+Management\s+True\s+2\s+v0\.1\.0\s+90s\s+<none>\s+database:2\(tainted\) general:3\s+mgmt:0\.21/0\.90ms workload-2:0\.42/12ms$`,
			`^workload-1\s+Workload\s+False\s+.*\s+fleet\.berth\.io/unreachable:NoPlace\s+database:2\(tainted\) general:3\s+`,
			`^edge\s+Workload\s+Unknown\s+0\s+<none>\s+5s\s+<none>\s+<none>\s+<none>$`,
		}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var out bytes.Buffer
			WriteMembers(&out, items, tc.wide, now)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			g.Expect(lines).To(HaveLen(len(tc.want)))
			for i, re := range tc.want {
				g.Expect(lines[i]).To(MatchRegexp(re))
			}
		})
	}
}

func TestWriteServices(t *testing.T) {
	pending := &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cart-cache", CreationTimestamp: ago(10 * time.Second)},
		Spec: fleetv1alpha1.ManagedServiceSpec{Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 3,
			Placement: fleetv1alpha1.ServicePlacement{Strategy: fleetv1alpha1.StrategyDedicated, PolicyRef: &fleetv1alpha1.PolicyReference{Name: "fast"}}},
		Status: fleetv1alpha1.ManagedServiceStatus{Conditions: []metav1.Condition{
			cond(fleetv1alpha1.ConditionPlaced, metav1.ConditionFalse, fleetv1alpha1.ReasonUnschedulable, "0/4 clusters fit", 5*time.Second),
		}},
	}
	fallback := placedService("team", "events", fleetv1alpha1.EngineRabbitMQ, fleetv1alpha1.StrategyManagement, "mgmt")
	fallback.Spec.Placement.Strategy = fleetv1alpha1.StrategyDedicated
	fallback.Status.Placement.Policy = "with-fallback"
	noStrategy := placedService("team", "orders-db", fleetv1alpha1.EnginePostgreSQL, "", "workload-1")
	items := []*fleetv1alpha1.ManagedService{noStrategy, pending, fallback}

	testCases := []struct {
		name string
		wide bool
		want []string
	}{
		{name: "default", want: []string{
			`^NAMESPACE\s+NAME\s+ENGINE\s+STRATEGY\s+CLUSTER\s+READY\s+ENDPOINT$`,
			`^team\s+orders-db\s+PostgreSQL\s+Workload\s+workload-1\s+True\s+orders-db:5432$`,
			`^team\s+cart-cache\s+Redis\s+Dedicated\s+<none>\s+Unknown\s+<none>$`,
			`^team\s+events\s+RabbitMQ\s+Management\(fallback from Dedicated\)\s+mgmt\s+True\s+events:5432$`,
		}},
		{name: "wide", wide: true, want: []string{
			`^NAMESPACE\s+NAME\s+ENGINE\s+VERSION\s+STRATEGY\s+POLICY\s+CLUSTER\s+READY\s+REPLICAS\s+ENDPOINT\s+SECRET\s+PLACED\s+PROPAGATED\s+AGE$`,
			`^team\s+orders-db\s+PostgreSQL\s+16\s+Workload\s+<built-in>\s+workload-1\s+True\s+1/1\s+orders-db:5432\s+orders-db-credentials\s+Scheduled\s+WorkApplied\s+3m$`,
			`^team\s+cart-cache\s+Redis\s+7\.2\s+Dedicated\s+fast\s+<none>\s+Unknown\s+0/3\s+<none>\s+<none>\s+Unschedulable\s+-\s+10s$`,
			`^team\s+events\s+RabbitMQ\s+16\s+Management\(fallback from Dedicated\)\s+with-fallback\s+mgmt\s+`,
		}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var out bytes.Buffer
			WriteServices(&out, items, tc.wide, now)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			g.Expect(lines).To(HaveLen(len(tc.want)))
			for i, re := range tc.want {
				g.Expect(lines[i]).To(MatchRegexp(re))
			}
		})
	}
}

func TestWriteExplain(t *testing.T) {
	placed := placedService("team", "cart-cache", fleetv1alpha1.EngineRedis, fleetv1alpha1.StrategyDedicated, "services-1")
	placed.Spec.Version = "7.2"
	placed.Spec.Consumer = fleetv1alpha1.ConsumerSpec{Cluster: "workload-2", Namespaces: []string{"cart", "web"}}
	placed.Spec.Placement.PolicyRef = &fleetv1alpha1.PolicyReference{Name: "dedicated-low-latency"}
	placed.Status.Placement.Policy = "dedicated-low-latency"
	placed.Status.Placement.Score = 1530
	placed.Status.Placement.BetterCandidate = "services-2"
	// Conditions as written by two controllers: explain orders them.
	c := placed.Status.Conditions
	placed.Status.Conditions = []metav1.Condition{c[2], c[1], c[0], cond("Custom", metav1.ConditionTrue, "Why", "extra", time.Second)}
	placed.Status.Placement.Candidates = []fleetv1alpha1.Candidate{
		{Cluster: "services-1", Feasible: true, Score: 1530, Scores: []fleetv1alpha1.PluginScore{
			{Plugin: "Latency", Score: 100, Weighted: 500}, {Plugin: "CapacityHeadroom", Score: 15, Weighted: 30},
		}},
		{Cluster: "mgmt", Reason: "StrategyRole: role Management is not Services"},
	}
	unplaced := &fleetv1alpha1.ManagedService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "big"},
		Spec: fleetv1alpha1.ManagedServiceSpec{Engine: fleetv1alpha1.EnginePostgreSQL, Version: "16", Replicas: 5,
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: "workload-1", Namespaces: []string{"shop"}}},
		Status: fleetv1alpha1.ManagedServiceStatus{Conditions: []metav1.Condition{
			cond(fleetv1alpha1.ConditionPlaced, metav1.ConditionFalse, fleetv1alpha1.ReasonUnschedulable, "0/1 clusters fit", 30*time.Second),
		}, Placement: fleetv1alpha1.PlacementDecision{Candidates: []fleetv1alpha1.Candidate{
			{Cluster: "workload-1", Reason: "CapacityFit: pool general: needs 5 cpu, 2 free"},
		}}},
	}
	fresh := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "new"},
		Spec: fleetv1alpha1.ManagedServiceSpec{Engine: fleetv1alpha1.EngineRedis, Version: "7.2", Replicas: 1,
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: "workload-1", Namespaces: []string{"shop"}}}}

	testCases := []struct {
		name string
		ms   *fleetv1alpha1.ManagedService
		want []string
	}{
		{name: "placed with a better candidate", ms: placed, want: []string{
			`(?m)^ManagedService:\s+team/cart-cache$`,
			`(?m)^Engine:\s+Redis 7\.2, 1 replica\(s\)$`,
			`(?m)^Consumer:\s+workload-2 \(namespaces cart, web\)$`,
			`(?m)^Requested:\s+strategy Dedicated, policy dedicated-low-latency$`,
			`(?m)^Placement:\s+services-1 \(strategy Dedicated, policy dedicated-low-latency, score 1530, decided 3m ago\)$`,
			`(?m)^Better candidate:\s+services-2 scores higher now; placement is sticky, annotate fleet\.berth\.io/replace to move$`,
			`(?m)^Endpoint:\s+cart-cache:5432 \(secret cart-cache-credentials, in the consumer namespaces\)$`,
			`(?m)^Candidates \(best first\):\n  CLUSTER\s+TOTAL\s+PLUGIN\s+SCORE\s+WEIGHTED\n  services-1\s+1530\s+Latency\s+100\s+500\n\s+CapacityHeadroom\s+15\s+30\n  mgmt\s+-\s+filtered out by StrategyRole: role Management is not Services\n`,
			`(?m)^Conditions:\n  TYPE\s+STATUS\s+REASON\s+AGE\s+MESSAGE\n  Placed\s+True\s+Scheduled\s+3m\s+Placed on services-1\n  Propagated\s+True\s+WorkApplied\s+2m\s+.*\n  Ready\s+True\s+EngineReady\s+60s\s+1 replica\(s\) ready\n  Custom\s+True\s+Why\s+1s\s+extra$`,
		}},
		{name: "not placed", ms: unplaced, want: []string{
			`(?m)^Requested:\s+strategy Workload$`,
			`(?m)^Placement:\s+not placed \(Unschedulable\)$`,
			`(?m)^Endpoint:\s+<none>$`,
			`(?m)^  workload-1\s+-\s+filtered out by CapacityFit: pool general: needs 5 cpu, 2 free$`,
			`(?m)^  Placed\s+False\s+Unschedulable\s+30s\s+0/1 clusters fit$`,
		}},
		{name: "no status yet", ms: fresh, want: []string{
			`(?m)^Placement:\s+not placed \(-\)$`,
			`(?m)^Candidates: none recorded$`,
			`(?m)^Conditions: none yet$`,
		}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var out bytes.Buffer
			WriteExplain(&out, tc.ms, now)
			for _, re := range tc.want {
				g.Expect(out.String()).To(MatchRegexp(re))
			}
			g.Expect(out.String()).NotTo(MatchRegexp(`(?m) +$`), "no trailing spaces")
		})
	}
}

func TestSelectByName(t *testing.T) {
	items := []fleetv1alpha1.MemberCluster{{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, {ObjectMeta: metav1.ObjectMeta{Name: "a"}}}
	nameOf := func(m *fleetv1alpha1.MemberCluster) string { return m.Name }
	label := func(n string) string { return "membercluster " + n }
	testCases := []struct {
		name    string
		names   []string
		want    []string
		wantErr string
	}{
		{name: "all, sorted", want: []string{"a", "b"}},
		{name: "in the given order", names: []string{"b", "a"}, want: []string{"b", "a"}},
		{name: "unknown", names: []string{"a", "x", "y"}, wantErr: "membercluster x, membercluster y not found"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := SelectByName(items, tc.names, nameOf, label)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, m := range got {
				names = append(names, m.Name)
			}
			g.Expect(names).To(Equal(tc.want))
		})
	}
}

func TestMillis(t *testing.T) {
	testCases := []struct {
		in   time.Duration
		want string
	}{
		{in: 0, want: "0.00"},
		{in: 213 * time.Microsecond, want: "0.21"},
		{in: 9990 * time.Microsecond, want: "9.99"},
		{in: 12400 * time.Microsecond, want: "12"},
	}
	for _, tc := range testCases {
		t.Run(tc.want, func(t *testing.T) {
			NewWithT(t).Expect(millis(tc.in)).To(Equal(tc.want))
		})
	}
}

// TestBadArguments: every bad argument or flag of get and explain is one
// line that names it, and fails before any cluster is contacted.
func TestBadArguments(t *testing.T) {
	testCases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown get command", args: []string{"get", "nope"}, wantErr: `unknown command "nope" for "berthctl get" (available: members, services)`},
		{name: "unknown output", args: []string{"get", "members", "-o", "xml"}, wantErr: `--output: "xml" is not supported`},
		{name: "namespace and all namespaces", args: []string{"get", "services", "-A", "-n", "team"}, wantErr: "--namespace and --all-namespaces: give at most one of them"},
		{name: "all namespaces with names", args: []string{"get", "services", "-A", "x"}, wantErr: "--all-namespaces: cannot be used with service names"},
		{name: "explain without argument", args: []string{"explain"}, wantErr: "expected one argument <namespace>/<name> of a ManagedService, e.g. team/orders-db; got 0"},
		{name: "explain two arguments", args: []string{"explain", "a/b", "c/d"}, wantErr: "expected one argument <namespace>/<name> of a ManagedService, e.g. team/orders-db; got 2"},
		{name: "explain without namespace", args: []string{"explain", "foo"}, wantErr: `argument "foo": expected <namespace>/<name> of a ManagedService, e.g. team/orders-db`},
		{name: "version output", args: []string{"version", "--client", "-o", "wide"}, wantErr: `--output: "wide" is not supported (use json or yaml, or leave it out)`},
		{name: "bad fleet name", args: []string{"get", "members", "--fleet", "../x"}, wantErr: `--fleet: fleet name "../x" must be a DNS-1123 label`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, errLine := run(t.Context(), tc.args...)
			g.Expect(errLine).To(HavePrefix(tc.wantErr))
			g.Expect(errLine).NotTo(ContainSubstring("\n"))
		})
	}
}
