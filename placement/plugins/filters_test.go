package plugins_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
	"github.com/berth-io/berth/placement/plugins"
	ptesting "github.com/berth-io/berth/placement/testing"
)

const ms = time.Millisecond

// filterCase runs one filter plugin on one member of a fleet.
type filterCase struct {
	name     string
	args     string
	strategy fleetv1alpha1.Strategy
	svc      *ptesting.ServiceBuilder
	members  []*ptesting.MemberBuilder
	member   string // the member judged; the first one when empty
	want     string // expected reason; "" means it fits
}

func runFilterCases(t *testing.T, plugin string, testCases []filterCase) {
	t.Helper()
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p, err := plugins.NewInTreeRegistry()[plugin](json.RawMessage(tc.args))
			g.Expect(err).NotTo(HaveOccurred())
			var mcs []*fleetv1alpha1.MemberCluster
			for _, b := range tc.members {
				mcs = append(mcs, b.Build())
			}
			snap := framework.NewSnapshot(mcs)
			name := tc.member
			if name == "" {
				name = mcs[0].Name
			}
			svc := framework.NewService(tc.svc.Build())
			strategy := tc.strategy
			if strategy == "" {
				strategy = svc.Strategy
			}
			state := framework.NewCycleState(snap, strategy, svc.Consumer)
			ctx := context.Background()
			if pre, ok := p.(framework.PreFilterPlugin); ok {
				if st := pre.PreFilter(ctx, state, svc); !st.IsSuccess() {
					g.Expect(st.Code()).To(Equal(framework.Unschedulable))
					g.Expect(st.Reason()).To(Equal(tc.want))
					return
				}
			}
			st := p.(framework.FilterPlugin).Filter(ctx, state, svc, snap.Get(name))
			if tc.want == "" {
				g.Expect(st.IsSuccess()).To(BeTrue(), "status: %v", st)
				return
			}
			g.Expect(st.Code()).To(Equal(framework.Unschedulable), "status: %v", st)
			g.Expect(st.Reason()).To(Equal(tc.want))
		})
	}
}

func TestStrategyRole(t *testing.T) {
	svc := func() *ptesting.ServiceBuilder { return ptesting.NewService("t", "s").Consumer("c1") }
	runFilterCases(t, plugins.StrategyRoleName, []filterCase{
		{name: "Workload keeps the consumer", svc: svc(), members: []*ptesting.MemberBuilder{ptesting.NewMember("c1")}},
		{
			name: "Workload drops other clusters", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("c2").Role(fleetv1alpha1.RoleServices)},
			want:    "not the consumer cluster c1 (strategy Workload)",
		},
		{
			name: "Workload keeps a consumer of any role", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("c1").Role(fleetv1alpha1.RoleManagement)},
		},
		{
			name: "Management keeps Management members", svc: svc().Strategy(fleetv1alpha1.StrategyManagement),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("hub").Role(fleetv1alpha1.RoleManagement)},
		},
		{
			name: "Management drops the consumer's Workload cluster", svc: svc().Strategy(fleetv1alpha1.StrategyManagement),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("c1")},
			want:    "role Workload, strategy Management needs role Management",
		},
		{
			name: "Dedicated keeps Services members", svc: svc().Strategy(fleetv1alpha1.StrategyDedicated),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices)},
		},
		{
			name: "Dedicated drops Management members", svc: svc().Strategy(fleetv1alpha1.StrategyDedicated),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("hub").Role(fleetv1alpha1.RoleManagement)},
			want:    "role Management, strategy Dedicated needs role Services",
		},
		{
			name: "Dedicated with a matching selector", svc: svc().Strategy(fleetv1alpha1.StrategyDedicated).ClusterSelector("region", "eu"),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices).Label("region", "eu")},
		},
		{
			name: "Dedicated with a selector that does not match", svc: svc().Strategy(fleetv1alpha1.StrategyDedicated).ClusterSelector("region", "eu"),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices).Label("region", "us")},
			want:    `labels do not match spec.placement.clusterSelector "region=eu"`,
		},
		{
			name: "the profile's strategy wins over the spec (fallback)", svc: svc(), strategy: fleetv1alpha1.StrategyDedicated,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("s1").Role(fleetv1alpha1.RoleServices)},
		},
	})
}

func TestStrategyRolePreFilter(t *testing.T) {
	g := NewWithT(t)
	p := &plugins.StrategyRole{}
	ms := ptesting.NewService("t", "s").Strategy(fleetv1alpha1.StrategyDedicated).ClusterSelector("a", "b").Build()
	ms.Spec.Placement.ClusterSelector.MatchExpressions = append(ms.Spec.Placement.ClusterSelector.MatchExpressions,
		metav1Requirement("k", "Bogus"))
	svc := framework.NewService(ms)
	snap := framework.NewSnapshot(nil)
	st := p.PreFilter(context.Background(), framework.NewCycleState(snap, fleetv1alpha1.StrategyDedicated, "c1"), svc)
	g.Expect(st.Code()).To(Equal(framework.Unschedulable))
	g.Expect(st.Reason()).To(HavePrefix("spec.placement.clusterSelector is invalid"))

	st = p.PreFilter(context.Background(), framework.NewCycleState(snap, "Elsewhere", "c1"), svc)
	g.Expect(st.Code()).To(Equal(framework.Error))

	_, err := plugins.NewStrategyRole(json.RawMessage(`{"x":1}`))
	g.Expect(err).To(MatchError("args.x: unknown field"))
}

func TestStrategyRoleBatchSharesStatuses(t *testing.T) {
	g := NewWithT(t)
	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{
		ptesting.NewMember("a").Build(), ptesting.NewMember("b").Build(), ptesting.NewMember("c1").Build(),
	})
	svc := framework.NewService(ptesting.NewService("t", "s").Consumer("c1").Build())
	out := make([]*framework.Status, 3)
	(&plugins.StrategyRole{}).FilterBatch(context.Background(), framework.NewCycleState(snap, fleetv1alpha1.StrategyWorkload, "c1"), svc, snap.Members(), out)
	g.Expect(out[0]).To(BeIdenticalTo(out[1]))
	g.Expect(out[2]).To(BeNil())
}

func TestAvailable(t *testing.T) {
	svc := ptesting.NewService("t", "s")
	runFilterCases(t, plugins.AvailableName, []filterCase{
		{name: "available, no taints", svc: svc, members: []*ptesting.MemberBuilder{ptesting.NewMember("a")}},
		{
			name: "stale lease", svc: svc, members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Available(false)},
			want: "not available: Available is False (LeaseExpired)",
		},
		{
			name: "NoPlace taint", svc: svc,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint(fleetv1alpha1.TaintKeyUnreachable, "", fleetv1alpha1.TaintNoPlace)},
			want:    "taint fleet.berth.io/unreachable:NoPlace is not tolerated",
		},
		{
			name: "PreferNoPlace taint does not filter", svc: svc,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint("soft", "x", fleetv1alpha1.TaintPreferNoPlace)},
		},
		{
			name: "NoPlace taint tolerated by Exists", svc: svc, args: `{"tolerations":[{"key":"maint","operator":"Exists"}]}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint("maint", "x", fleetv1alpha1.TaintNoPlace)},
		},
		{
			name: "NoPlace taint tolerated by Equal", svc: svc, args: `{"tolerations":[{"key":"maint","value":"x","effect":"NoPlace"}]}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint("maint", "x", fleetv1alpha1.TaintNoPlace)},
		},
		{
			name: "toleration for another value", svc: svc, args: `{"tolerations":[{"key":"maint","value":"y"}]}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint("maint", "x", fleetv1alpha1.TaintNoPlace)},
			want:    "taint maint=x:NoPlace is not tolerated",
		},
		{
			name: "toleration for the other effect", svc: svc, args: `{"tolerations":[{"key":"maint","operator":"Exists","effect":"PreferNoPlace"}]}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Taint("maint", "x", fleetv1alpha1.TaintNoPlace)},
			want:    "taint maint=x:NoPlace is not tolerated",
		},
		{
			name: "tolerations do not make a stale member available", svc: svc, args: `{"tolerations":[{"operator":"Exists"}]}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Available(false)},
			want:    "not available: Available is False (LeaseExpired)",
		},
	})
}

func TestTaintArgsErrors(t *testing.T) {
	testCases := []struct {
		args, want string
	}{
		{`{"tolerations":[{"operator":"Equal","value":"x"}]}`, "args.tolerations[0].key: must be set unless operator is Exists"},
		{`{"tolerations":[{"key":"a","operator":"Exists","value":"x"}]}`, "args.tolerations[0].value: must be empty with operator Exists"},
		{`{"tolerations":[{"key":"a"},{"key":"b","operator":"In"}]}`, `args.tolerations[1].operator: must be Equal or Exists, got "In"`},
		{`{"tolerations":[{"key":"a","effect":"NoSchedule"}]}`, `args.tolerations[0].effect: must be NoPlace or PreferNoPlace, got "NoSchedule"`},
		{`{"tolerations":{"key":"a"}}`, "args.tolerations: must be a list"},
	}
	for _, tc := range testCases {
		t.Run(tc.want, func(t *testing.T) {
			g := NewWithT(t)
			_, err := plugins.NewAvailable(json.RawMessage(tc.args))
			g.Expect(err).To(MatchError(tc.want))
			_, err = plugins.NewPreferNoPlace(json.RawMessage(tc.args))
			g.Expect(err).To(MatchError(tc.want))
		})
	}
}

func TestEngineSupport(t *testing.T) {
	pg := ptesting.NewService("t", "s")
	redis := ptesting.NewService("t", "s").Engine(fleetv1alpha1.EngineRedis, "7.2")
	rabbit := ptesting.NewService("t", "s").Engine(fleetv1alpha1.EngineRabbitMQ, "4.0")
	noBuiltIn := `{"allowBuiltIn":false}`
	all := ptesting.NewMember("a").Operators(fleetv1alpha1.OperatorZalandoPostgres, fleetv1alpha1.OperatorSpotahomeRedis, fleetv1alpha1.OperatorRabbitMQ)
	runFilterCases(t, plugins.EngineSupportName, []filterCase{
		{name: "built-in allowed by default", svc: pg, members: []*ptesting.MemberBuilder{ptesting.NewMember("a")}},
		{name: "built-in allowed explicitly", svc: redis, args: `{"allowBuiltIn":true}`, members: []*ptesting.MemberBuilder{ptesting.NewMember("a")}},
		{
			name: "PostgreSQL without Zalando", svc: pg, args: noBuiltIn,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Operators(fleetv1alpha1.OperatorSpotahomeRedis)},
			want:    "no ZalandoPostgres operator for PostgreSQL, and built-in is not allowed",
		},
		{name: "PostgreSQL with Zalando", svc: pg, args: noBuiltIn, members: []*ptesting.MemberBuilder{all}},
		{name: "Redis with Spotahome", svc: redis, args: noBuiltIn, members: []*ptesting.MemberBuilder{all}},
		{name: "RabbitMQ with its operator", svc: rabbit, args: noBuiltIn, members: []*ptesting.MemberBuilder{all}},
		{
			name: "RabbitMQ without its operator", svc: rabbit, args: noBuiltIn,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Operators(fleetv1alpha1.OperatorZalandoPostgres)},
			want:    "no RabbitMQClusterOperator operator for RabbitMQ, and built-in is not allowed",
		},
	})
	_, err := plugins.NewEngineSupport(json.RawMessage(`{"allowBuiltIn":"no"}`))
	NewWithT(t).Expect(err).To(MatchError("args.allowBuiltIn: must be a boolean"))
}

func TestCapacityFit(t *testing.T) {
	tol := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "database", Effect: corev1.TaintEffectNoSchedule}
	dbPool := []ptesting.PoolOption{ptesting.PoolLabel("pool", "database"), ptesting.PoolTaint("dedicated", "database", corev1.TaintEffectNoSchedule)}
	svc := func() *ptesting.ServiceBuilder {
		return ptesting.NewService("t", "s").Replicas(2).Requests("2", "4Gi").Storage("10Gi")
	}
	runFilterCases(t, plugins.CapacityFitName, []filterCase{
		{name: "fits an empty pool", svc: svc(), members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "8", "32Gi")}},
		{
			name: "fits exactly", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "8", "32Gi", ptesting.Requested("4", "24Gi"))},
		},
		{
			name: "cpu short, counting what is requested", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("database", "8", "32Gi", ptesting.Requested("5500m", "1Gi"))},
			want:    "pool database: needs 4 cpu, 2.5 free",
		},
		{
			name: "memory and cpu short", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "3", "6Gi", ptesting.Requested("0", "512Mi"))},
			want:    "pool default: needs 4 cpu, 3 free, needs 8Gi memory, 5.5Gi free",
		},
		{
			name: "overcommitted pool shows 0 free", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "8", "32Gi", ptesting.Requested("9", "1Gi"))},
			want:    "pool default: needs 4 cpu, 0 free",
		},
		{
			name: "storage against ephemeral-storage", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "8", "32Gi", ptesting.EphemeralStorage("50Gi", "35Gi"))},
			want:    "pool default: needs 20Gi storage, 15Gi free ephemeral-storage",
		},
		{
			name: "storage check can be turned off", svc: svc(), args: `{"checkStorage":false}`,
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "8", "32Gi", ptesting.EphemeralStorage("50Gi", "35Gi"))},
		},
		{
			name: "no pools reported", svc: svc(), members: []*ptesting.MemberBuilder{ptesting.NewMember("a")},
			want: "no node pools reported",
		},
		{
			name: "a tainted pool is not used without the toleration", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("database", "64", "256Gi", dbPool...)},
			want:    "no node pool matches spec.nodePool (pool database: taint dedicated=database:NoSchedule not tolerated)",
		},
		{
			name: "selector and toleration pick the dedicated pool", svc: svc().NodePool(map[string]string{"pool": "database"}, tol),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").
				Pool("default", "64", "256Gi").
				Pool("database", "8", "32Gi", dbPool...)},
		},
		{
			name: "the big default pool does not count for a pinned service", svc: svc().NodePool(map[string]string{"pool": "database"}, tol),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").
				Pool("default", "64", "256Gi").
				Pool("database", "2", "32Gi", dbPool...)},
			want: "pool database: needs 4 cpu, 2 free",
		},
		{
			name: "several matching pools, none big enough", svc: svc(),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("p1", "1", "32Gi").Pool("p2", "2", "1Gi")},
			want:    "pool p1: needs 4 cpu, 1 free (1 other matching pools are smaller)",
		},
		{
			name: "requests are not added again on the current cluster", svc: svc().PlacedOn("a", fleetv1alpha1.StrategyWorkload),
			members: []*ptesting.MemberBuilder{ptesting.NewMember("a").Pool("default", "4", "8Gi", ptesting.Requested("4", "8Gi"))},
		},
	})
	_, err := plugins.NewCapacityFit(json.RawMessage(`{"checkStorage":1}`))
	NewWithT(t).Expect(err).To(MatchError("args.checkStorage: must be a boolean"))
}

func TestMaxLatency(t *testing.T) {
	svc := func() *ptesting.ServiceBuilder {
		return ptesting.NewService("t", "s").Consumer("c1").Strategy(fleetv1alpha1.StrategyDedicated)
	}
	consumer := func() *ptesting.MemberBuilder { return ptesting.NewMember("c1") }
	runFilterCases(t, plugins.MaxLatencyName, []filterCase{
		{
			name: "no limit", svc: svc(), member: "s1",
			members: []*ptesting.MemberBuilder{consumer(), ptesting.NewMember("s1")},
		},
		{
			name: "the consumer's own cluster has 0", svc: svc().MaxLatency(1 * ms), member: "c1",
			members: []*ptesting.MemberBuilder{consumer()},
		},
		{
			name: "candidate's own measurement within the limit", svc: svc().MaxLatency(2 * ms), member: "s1",
			members: []*ptesting.MemberBuilder{consumer(), ptesting.NewMember("s1").Latency("c1", 1*ms, 2*ms)},
		},
		{
			name: "consumer's measurement above the limit", svc: svc().MaxLatency(2 * ms), member: "s1",
			members: []*ptesting.MemberBuilder{consumer().Latency("s1", 1*ms, 3200*time.Microsecond), ptesting.NewMember("s1")},
			want:    "p99 RTT to consumer c1 is 3.2ms, above maxLatency 2ms",
		},
		{
			name: "unknown RTT does not fit", svc: svc().MaxLatency(2 * ms), member: "s1",
			members: []*ptesting.MemberBuilder{consumer(), ptesting.NewMember("s1").Latency("other", 1*ms, 1*ms)},
			want:    "no RTT measured to consumer c1, and maxLatency is 2ms",
		},
		{
			name: "unknown RTT fits when allowed", svc: svc().MaxLatency(2 * ms), member: "s1", args: `{"allowUnknown":true}`,
			members: []*ptesting.MemberBuilder{consumer(), ptesting.NewMember("s1")},
		},
		{
			name: "allowUnknown does not excuse a measured RTT", svc: svc().MaxLatency(2 * ms), member: "s1", args: `{"allowUnknown":true}`,
			members: []*ptesting.MemberBuilder{consumer(), ptesting.NewMember("s1").Latency("c1", 5*ms, 9*ms)},
			want:    "p99 RTT to consumer c1 is 9ms, above maxLatency 2ms",
		},
	})
	_, err := plugins.NewMaxLatency(json.RawMessage(`{"allowUnknown":"yes"}`))
	NewWithT(t).Expect(err).To(MatchError("args.allowUnknown: must be a boolean"))
}

func TestFormat(t *testing.T) {
	g := NewWithT(t)
	g.Expect(plugins.FormatCPU(2500)).To(Equal("2.5"))
	g.Expect(plugins.FormatCPU(4000)).To(Equal("4"))
	g.Expect(plugins.FormatCPU(125)).To(Equal("0.125"))
	g.Expect(plugins.FormatBytes(5632 << 20)).To(Equal("5.5Gi"))
	g.Expect(plugins.FormatBytes(512 << 20)).To(Equal("512Mi"))
	g.Expect(plugins.FormatBytes(100)).To(Equal("100"))
	g.Expect(plugins.FormatBytes(1<<30 + 1<<20)).To(Equal("1Gi"))
}
