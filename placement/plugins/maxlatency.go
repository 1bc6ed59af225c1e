package plugins

import (
	"context"
	"encoding/json"

	"github.com/berth-io/berth/placement/framework"
)

// MaxLatencyArgs are the args of MaxLatency.
type MaxLatencyArgs struct {
	// AllowUnknown lets clusters without a measured RTT to the consumer
	// fit. Default false.
	AllowUnknown bool `json:"allowUnknown,omitempty"`
}

// MaxLatency drops members whose p99 RTT to the consumer cluster exceeds
// spec.placement.maxLatency.
type MaxLatency struct {
	allowUnknown bool
}

var _ framework.FilterPlugin = &MaxLatency{}

// NewMaxLatency is the MaxLatency factory.
func NewMaxLatency(args json.RawMessage) (framework.Plugin, error) {
	var a MaxLatencyArgs
	if err := framework.DecodeArgs(args, &a); err != nil {
		return nil, err
	}
	return &MaxLatency{allowUnknown: a.AllowUnknown}, nil
}

// Name returns MaxLatencyName.
func (*MaxLatency) Name() string { return MaxLatencyName }

// Filter judges one member.
func (p *MaxLatency) Filter(_ context.Context, state *framework.CycleState, svc *framework.Service, m *framework.Member) *framework.Status {
	if svc.MaxLatency <= 0 {
		return nil
	}
	rtt := state.RTT(m)
	if !rtt.Known {
		if p.allowUnknown {
			return nil
		}
		return framework.Unschedulablef("no RTT measured to consumer %s, and maxLatency is %s", svc.Consumer, svc.MaxLatency)
	}
	if rtt.P99 > svc.MaxLatency {
		return framework.Unschedulablef("p99 RTT to consumer %s is %s, above maxLatency %s", svc.Consumer, rtt.P99, svc.MaxLatency)
	}
	return nil
}
