package plugins

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/meta"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

// Available drops members that are not Available (the spoke's Lease is
// stale, as the hub's member controller reports in the Available condition)
// and members with a NoPlace taint the args do not tolerate.
type Available struct {
	tolerations []MemberToleration
}

var _ framework.FilterPlugin = &Available{}

// NewAvailable is the Available factory; args are TaintArgs.
func NewAvailable(args json.RawMessage) (framework.Plugin, error) {
	a, err := decodeTaintArgs(args)
	if err != nil {
		return nil, err
	}
	return &Available{tolerations: a.Tolerations}, nil
}

// Name returns AvailableName.
func (*Available) Name() string { return AvailableName }

var notAvailable = framework.NewStatus(framework.Unschedulable, "not available: the Available condition is not True")

// Filter judges one member.
func (p *Available) Filter(_ context.Context, _ *framework.CycleState, _ *framework.Service, m *framework.Member) *framework.Status {
	if !m.Available {
		if c := meta.FindStatusCondition(m.Object.Status.Conditions, fleetv1alpha1.ConditionAvailable); c != nil && c.Reason != "" {
			return framework.Unschedulablef("not available: Available is %s (%s)", c.Status, c.Reason)
		}
		return notAvailable
	}
	if t := untolerated(m, fleetv1alpha1.TaintNoPlace, p.tolerations); t != nil {
		return framework.Unschedulablef("taint %s is not tolerated", describeTaint(t))
	}
	return nil
}
