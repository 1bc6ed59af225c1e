package plugins

import (
	"context"
	"encoding/json"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

// EngineOperator is the operator that runs each engine.
var EngineOperator = map[fleetv1alpha1.Engine]fleetv1alpha1.Operator{
	fleetv1alpha1.EnginePostgreSQL: fleetv1alpha1.OperatorZalandoPostgres,
	fleetv1alpha1.EngineRedis:      fleetv1alpha1.OperatorSpotahomeRedis,
	fleetv1alpha1.EngineRabbitMQ:   fleetv1alpha1.OperatorRabbitMQ,
}

// EngineSupportArgs are the args of EngineSupport.
type EngineSupportArgs struct {
	// AllowBuiltIn lets members without the operator run the engine as the
	// built-in StatefulSet. Default true.
	AllowBuiltIn *bool `json:"allowBuiltIn,omitempty"`
}

// EngineSupport keeps members that can run the service's engine.
type EngineSupport struct {
	allowBuiltIn bool
	rejected     map[fleetv1alpha1.Engine]*framework.Status
}

var _ framework.FilterPlugin = &EngineSupport{}

// NewEngineSupport is the EngineSupport factory.
func NewEngineSupport(args json.RawMessage) (framework.Plugin, error) {
	var a EngineSupportArgs
	if err := framework.DecodeArgs(args, &a); err != nil {
		return nil, err
	}
	p := &EngineSupport{allowBuiltIn: a.AllowBuiltIn == nil || *a.AllowBuiltIn, rejected: map[fleetv1alpha1.Engine]*framework.Status{}}
	for e, op := range EngineOperator {
		p.rejected[e] = framework.Unschedulablef("no %s operator for %s, and built-in is not allowed", op, e)
	}
	return p, nil
}

// Name returns EngineSupportName.
func (*EngineSupport) Name() string { return EngineSupportName }

// Filter judges one member.
func (p *EngineSupport) Filter(_ context.Context, _ *framework.CycleState, svc *framework.Service, m *framework.Member) *framework.Status {
	var bit framework.OperatorSet
	switch svc.Engine {
	case fleetv1alpha1.EnginePostgreSQL:
		bit = framework.OpZalandoPostgres
	case fleetv1alpha1.EngineRedis:
		bit = framework.OpSpotahomeRedis
	case fleetv1alpha1.EngineRabbitMQ:
		bit = framework.OpRabbitMQ
	default:
		return framework.Unschedulablef("unknown engine %q", svc.Engine)
	}
	if p.allowBuiltIn || m.Operators.Has(bit) {
		return nil
	}
	return p.rejected[svc.Engine]
}
