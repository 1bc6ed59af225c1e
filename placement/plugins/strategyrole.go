package plugins

import (
	"context"
	"encoding/json"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

// StrategyRole keeps the clusters the profile's strategy allows: the
// consumer's cluster for Workload, Management members for Management, and
// Services members (narrowed by spec.placement.clusterSelector) for
// Dedicated. It takes no args.
type StrategyRole struct{}

var (
	_ framework.FilterPlugin      = &StrategyRole{}
	_ framework.BatchFilterPlugin = &StrategyRole{}
	_ framework.PreFilterPlugin   = &StrategyRole{}
)

// NewStrategyRole is the StrategyRole factory.
func NewStrategyRole(args json.RawMessage) (framework.Plugin, error) {
	if err := framework.DecodeArgs(args, &struct{}{}); err != nil {
		return nil, err
	}
	return &StrategyRole{}, nil
}

// Name returns StrategyRoleName.
func (*StrategyRole) Name() string { return StrategyRoleName }

// roleFor is the member role each strategy other than Workload needs.
func roleFor(s fleetv1alpha1.Strategy) fleetv1alpha1.MemberRole {
	switch s {
	case fleetv1alpha1.StrategyManagement:
		return fleetv1alpha1.RoleManagement
	case fleetv1alpha1.StrategyDedicated:
		return fleetv1alpha1.RoleServices
	default:
		return ""
	}
}

// PreFilter rejects everything when the cluster selector does not parse,
// and fails on an unknown strategy.
func (*StrategyRole) PreFilter(_ context.Context, state *framework.CycleState, svc *framework.Service) *framework.Status {
	switch state.Strategy() {
	case fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyManagement:
		return nil
	case fleetv1alpha1.StrategyDedicated:
		if svc.ClusterSelectorErr != nil {
			return framework.Unschedulablef("spec.placement.clusterSelector is invalid: %v", svc.ClusterSelectorErr)
		}
		return nil
	default:
		return framework.NewStatus(framework.Error, "unknown strategy "+string(state.Strategy()))
	}
}

// Filter judges one cluster.
func (p *StrategyRole) Filter(ctx context.Context, state *framework.CycleState, svc *framework.Service, m *framework.Member) *framework.Status {
	st := make([]*framework.Status, 1)
	p.FilterBatch(ctx, state, svc, []*framework.Member{m}, st)
	return st[0]
}

// FilterBatch judges every cluster, sharing one status per reason.
func (*StrategyRole) FilterBatch(_ context.Context, state *framework.CycleState, svc *framework.Service, members []*framework.Member, out []*framework.Status) {
	strategy := state.Strategy()
	if strategy == fleetv1alpha1.StrategyWorkload {
		notConsumer := framework.Unschedulablef("not the consumer cluster %s (strategy Workload)", svc.Consumer)
		for i, m := range members {
			if m.Name != svc.Consumer {
				out[i] = notConsumer
			}
		}
		return
	}
	want := roleFor(strategy)
	// One status per member role, made on first use.
	var wrongRole [4]*framework.Status
	var noMatch *framework.Status
	sel := svc.ClusterSelector
	if strategy != fleetv1alpha1.StrategyDedicated {
		sel = nil
	}
	for i, m := range members {
		if m.Role != want {
			slot := roleSlot(m.Role)
			if wrongRole[slot] == nil {
				wrongRole[slot] = framework.Unschedulablef("role %s, strategy %s needs role %s", m.Role, strategy, want)
			}
			out[i] = wrongRole[slot]
			if slot == len(wrongRole)-1 {
				wrongRole[slot] = nil // unknown roles differ from each other
			}
			continue
		}
		if sel != nil && !sel.Matches(m.Labels) {
			if noMatch == nil {
				noMatch = framework.Unschedulablef("labels do not match spec.placement.clusterSelector %q", sel.String())
			}
			out[i] = noMatch
		}
	}
}

func roleSlot(r fleetv1alpha1.MemberRole) int {
	switch r {
	case fleetv1alpha1.RoleWorkload:
		return 0
	case fleetv1alpha1.RoleManagement:
		return 1
	case fleetv1alpha1.RoleServices:
		return 2
	default:
		return 3
	}
}
