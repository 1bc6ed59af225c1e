package plugins

import (
	"context"
	"encoding/json"
	"math"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

func noArgs(args json.RawMessage) error { return framework.DecodeArgs(args, &struct{}{}) }

// CoLocation prefers the consumer's own cluster: 100 there, 0 elsewhere.
type CoLocation struct{}

var _ framework.ScorePlugin = &CoLocation{}

// NewCoLocation is the CoLocation factory; it takes no args.
func NewCoLocation(args json.RawMessage) (framework.Plugin, error) {
	if err := noArgs(args); err != nil {
		return nil, err
	}
	return &CoLocation{}, nil
}

// Name returns CoLocationName.
func (*CoLocation) Name() string { return CoLocationName }

// Score rates one member.
func (*CoLocation) Score(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) (int64, *framework.Status) {
	if m.Name == svc.Consumer {
		return framework.MaxScore, nil
	}
	return framework.MinScore, nil
}

// ScoreExtensions returns nil.
func (*CoLocation) ScoreExtensions() framework.ScoreExtensions { return nil }

// Steady prefers the cluster the service is placed on: 100 there, 0
// elsewhere, and 0 everywhere while a re-placement is requested. It keeps
// the better-candidate hint quiet over small changes.
type Steady struct{}

var _ framework.ScorePlugin = &Steady{}

// NewSteady is the Steady factory; it takes no args.
func NewSteady(args json.RawMessage) (framework.Plugin, error) {
	if err := noArgs(args); err != nil {
		return nil, err
	}
	return &Steady{}, nil
}

// Name returns SteadyName.
func (*Steady) Name() string { return SteadyName }

// Score rates one member.
func (*Steady) Score(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) (int64, *framework.Status) {
	if !svc.Replacing && svc.Current != "" && m.Name == svc.Current {
		return framework.MaxScore, nil
	}
	return framework.MinScore, nil
}

// ScoreExtensions returns nil.
func (*Steady) ScoreExtensions() framework.ScoreExtensions { return nil }

// Latency prefers a low p50 RTT to the consumer. Raw scores are the p50 in
// microseconds (-1 when unknown); NormalizeScore maps the lowest to 100 and
// the highest to 0.
type Latency struct{}

var (
	_ framework.ScorePlugin     = &Latency{}
	_ framework.ScoreExtensions = &Latency{}
)

// NewLatency is the Latency factory; it takes no args.
func NewLatency(args json.RawMessage) (framework.Plugin, error) {
	if err := noArgs(args); err != nil {
		return nil, err
	}
	return &Latency{}, nil
}

// Name returns LatencyName.
func (*Latency) Name() string { return LatencyName }

// Score returns the p50 RTT in microseconds, or -1 when unknown.
func (*Latency) Score(_ context.Context, state *framework.CycleState, _ *framework.Service, m *framework.Member) (int64, *framework.Status) {
	rtt := state.RTT(m)
	if !rtt.Known {
		return -1, nil
	}
	return rtt.P50.Microseconds(), nil
}

// ScoreExtensions returns the plugin.
func (p *Latency) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps known RTTs linearly from the lowest (100) to the
// highest (0); unknown ones get 0, and equal ones 100.
func (*Latency) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.Service, scores framework.ClusterScoreList) *framework.Status {
	lo, hi := int64(math.MaxInt64), int64(-1)
	for _, s := range scores {
		if s.Score >= 0 {
			lo, hi = min(lo, s.Score), max(hi, s.Score)
		}
	}
	for i := range scores {
		switch v := scores[i].Score; {
		case v < 0:
			scores[i].Score = framework.MinScore
		case hi == lo:
			scores[i].Score = framework.MaxScore
		default:
			scores[i].Score = framework.MaxScore * (hi - v) / (hi - lo)
		}
	}
	return nil
}

// CapacityHeadroom prefers the member that is least allocated after
// placing: 100 times the share of cpu and memory (averaged) still free in
// the pool the service would go to. A member without such a pool gets 0.
type CapacityHeadroom struct{}

var _ framework.ScorePlugin = &CapacityHeadroom{}

// NewCapacityHeadroom is the CapacityHeadroom factory; it takes no args.
func NewCapacityHeadroom(args json.RawMessage) (framework.Plugin, error) {
	if err := noArgs(args); err != nil {
		return nil, err
	}
	return &CapacityHeadroom{}, nil
}

// Name returns CapacityHeadroomName.
func (*CapacityHeadroom) Name() string { return CapacityHeadroomName }

// Score rates one member.
func (*CapacityHeadroom) Score(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) (int64, *framework.Status) {
	i := framework.PickPool(svc, m, false)
	if i < 0 {
		return framework.MinScore, nil
	}
	u := framework.Utilisation(&m.Pools[i], framework.NeedOn(svc, m))
	return int64(math.Round(float64(framework.MaxScore) * (1 - u))), nil
}

// ScoreExtensions returns nil.
func (*CapacityHeadroom) ScoreExtensions() framework.ScoreExtensions { return nil }

// Spread prefers members with fewer services of the same namespace
// (tenant). Raw scores are the counts from Service.TenantPlacements;
// NormalizeScore gives 100 to a member with none and 0 to the most loaded.
type Spread struct{}

var (
	_ framework.ScorePlugin     = &Spread{}
	_ framework.ScoreExtensions = &Spread{}
)

// NewSpread is the Spread factory; it takes no args.
func NewSpread(args json.RawMessage) (framework.Plugin, error) {
	if err := noArgs(args); err != nil {
		return nil, err
	}
	return &Spread{}, nil
}

// Name returns SpreadName.
func (*Spread) Name() string { return SpreadName }

// Score returns the number of the tenant's services on the member.
func (*Spread) Score(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) (int64, *framework.Status) {
	return int64(svc.TenantPlacements[m.Name]), nil
}

// ScoreExtensions returns the plugin.
func (p *Spread) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps count c to 100*(max-c)/max.
func (*Spread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.Service, scores framework.ClusterScoreList) *framework.Status {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s.Score)
	}
	for i := range scores {
		if hi == 0 {
			scores[i].Score = framework.MaxScore
		} else {
			scores[i].Score = framework.MaxScore * (hi - scores[i].Score) / hi
		}
	}
	return nil
}

// PreferNoPlace lowers members with a PreferNoPlace taint that args
// tolerations do not tolerate: 0 there, 100 elsewhere.
type PreferNoPlace struct {
	tolerations []MemberToleration
}

var _ framework.ScorePlugin = &PreferNoPlace{}

// NewPreferNoPlace is the PreferNoPlace factory; args are TaintArgs.
func NewPreferNoPlace(args json.RawMessage) (framework.Plugin, error) {
	a, err := decodeTaintArgs(args)
	if err != nil {
		return nil, err
	}
	return &PreferNoPlace{tolerations: a.Tolerations}, nil
}

// Name returns PreferNoPlaceName.
func (*PreferNoPlace) Name() string { return PreferNoPlaceName }

// Score rates one member.
func (p *PreferNoPlace) Score(_ context.Context, _ *framework.CycleState, _ *framework.Service, m *framework.Member) (int64, *framework.Status) {
	if untolerated(m, fleetv1alpha1.TaintPreferNoPlace, p.tolerations) != nil {
		return framework.MinScore, nil
	}
	return framework.MaxScore, nil
}

// ScoreExtensions returns nil.
func (*PreferNoPlace) ScoreExtensions() framework.ScoreExtensions { return nil }
