package plugins

import (
	"github.com/berth-io/berth/placement/framework"
)

// Plugin names.
const (
	StrategyRoleName     = "StrategyRole"
	AvailableName        = "Available"
	EngineSupportName    = "EngineSupport"
	CapacityFitName      = "CapacityFit"
	MaxLatencyName       = "MaxLatency"
	CoLocationName       = "CoLocation"
	LatencyName          = "Latency"
	CapacityHeadroomName = "CapacityHeadroom"
	SpreadName           = "Spread"
	SteadyName           = "Steady"
	PreferNoPlaceName    = "PreferNoPlace"
)

// NewInTreeRegistry returns a registry with every in-tree plugin.
func NewInTreeRegistry() framework.Registry {
	return framework.Registry{
		StrategyRoleName:     NewStrategyRole,
		AvailableName:        NewAvailable,
		EngineSupportName:    NewEngineSupport,
		CapacityFitName:      NewCapacityFit,
		MaxLatencyName:       NewMaxLatency,
		CoLocationName:       NewCoLocation,
		LatencyName:          NewLatency,
		CapacityHeadroomName: NewCapacityHeadroom,
		SpreadName:           NewSpread,
		SteadyName:           NewSteady,
		PreferNoPlaceName:    NewPreferNoPlace,
	}
}
