package placement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

// RegionAffinityArgs are the args of the example plugin.
type RegionAffinityArgs struct {
	// Region preferred; members labelled topology.berth.io/region with it
	// score 100.
	Region string `json:"region"`
}

// RegionAffinity is an out-of-tree score plugin: it prefers members in one
// region.
type RegionAffinity struct{ region string }

var _ framework.ScorePlugin = &RegionAffinity{}

// NewRegionAffinity decodes and checks the args, naming the bad field.
func NewRegionAffinity(raw json.RawMessage) (framework.Plugin, error) {
	var args RegionAffinityArgs
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	if args.Region == "" {
		return nil, framework.FieldErrorf("args.region", "must be set")
	}
	return &RegionAffinity{region: args.Region}, nil
}

// Name returns the registry name.
func (*RegionAffinity) Name() string { return "RegionAffinity" }

// Score is 100 in the preferred region, 0 elsewhere.
func (p *RegionAffinity) Score(_ context.Context, _ *framework.CycleState, _ *framework.Service, m *framework.Member) (int64, *framework.Status) {
	if m.Labels["topology.berth.io/region"] == p.region {
		return framework.MaxScore, nil
	}
	return framework.MinScore, nil
}

// ScoreExtensions returns nil: scores are already 0..100.
func (*RegionAffinity) ScoreExtensions() framework.ScoreExtensions { return nil }

// ExampleRegister adds an out-of-tree score plugin to the hub's registry
// and enables it in the Dedicated profile through the placement config, as
// a hub binary would do in main before starting the hub.
func ExampleRegister() {
	placement.MustRegister("RegionAffinity", NewRegionAffinity)

	cfg, err := placement.ParseConfig([]byte(`
profiles:
- strategy: Dedicated
  scores:
  - name: RegionAffinity
    weight: 10
    args: {region: eu-west}
  - name: Latency
`))
	if err != nil {
		panic(err)
	}
	reg, err := placement.NewRegistry()
	if err != nil {
		panic(err)
	}
	placer, err := placement.NewPlacer(reg, cfg)
	if err != nil {
		panic(err)
	}

	snap := framework.NewSnapshot([]*fleetv1alpha1.MemberCluster{
		ptesting.NewMember("app").Pool("default", "8", "32Gi").
			Latency("near", time.Millisecond, 2*time.Millisecond).
			Latency("far", 9*time.Millisecond, 20*time.Millisecond).Build(),
		ptesting.NewMember("near").Role(fleetv1alpha1.RoleServices).Label("topology.berth.io/region", "us-east").Pool("default", "8", "32Gi").Build(),
		ptesting.NewMember("far").Role(fleetv1alpha1.RoleServices).Label("topology.berth.io/region", "eu-west").Pool("default", "8", "32Gi").Build(),
	})
	ms := ptesting.NewService("team-a", "orders").Consumer("app").Strategy(fleetv1alpha1.StrategyDedicated).Build()
	d, err := placer.Decide(context.Background(), placement.Request{Service: framework.NewService(ms), Snapshot: snap}, time.Now())
	if err != nil {
		panic(err)
	}
	fmt.Println("placed on", d.Placement.Cluster)
	for _, c := range d.Placement.Candidates {
		if c.Feasible {
			fmt.Printf("%s score=%d %v\n", c.Cluster, c.Score, c.Scores)
		} else {
			fmt.Printf("%s rejected: %s\n", c.Cluster, c.Reason)
		}
	}

	// A bad arg is reported with its path when the config is validated
	// (LoadConfig does both steps).
	bad, err := placement.ParseConfig([]byte(`profiles: [{strategy: Dedicated, scores: [{name: RegionAffinity, args: {region: 7}}]}]`))
	if err != nil {
		panic(err)
	}
	fmt.Println(bad.Validate(reg))
	// Output:
	// placed on far
	// far score=1000 [{RegionAffinity 100 1000} {Latency 0 0}]
	// near score=100 [{RegionAffinity 0 0} {Latency 100 100}]
	// app rejected: StrategyRole: role Workload, strategy Dedicated needs role Services
	// profiles[0].scores[0].args.region: must be a string
}
