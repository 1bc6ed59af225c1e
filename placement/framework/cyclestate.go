package framework

import (
	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// StateKey names a value a plugin keeps in the CycleState.
type StateKey string

// CycleState is the scratch space of one decision. It is not safe for
// concurrent use; one decision runs on one goroutine.
type CycleState struct {
	snapshot *Snapshot
	strategy fleetv1alpha1.Strategy
	consumer string
	rtt      []RTT
	data     map[StateKey]any
}

// NewCycleState returns the state of a decision over snap for the strategy
// of the profile being run and the service's consumer cluster.
func NewCycleState(snap *Snapshot, strategy fleetv1alpha1.Strategy, consumer string) *CycleState {
	return &CycleState{snapshot: snap, strategy: strategy, consumer: consumer}
}

// Snapshot is the fleet the decision runs over.
func (c *CycleState) Snapshot() *Snapshot { return c.snapshot }

// Strategy is the strategy of the profile being run. It differs from the
// service's spec when a fallback strategy runs.
func (c *CycleState) Strategy() fleetv1alpha1.Strategy { return c.strategy }

// RTT is the round-trip time from m to the service's consumer cluster.
func (c *CycleState) RTT(m *Member) RTT {
	if c.rtt == nil {
		c.rtt = c.snapshot.RTTsTo(c.consumer)
	}
	return c.rtt[m.Index]
}

// Write stores a value under key.
func (c *CycleState) Write(key StateKey, v any) {
	if c.data == nil {
		c.data = map[StateKey]any{}
	}
	c.data[key] = v
}

// Read returns the value stored under key.
func (c *CycleState) Read(key StateKey) (any, bool) {
	v, ok := c.data[key]
	return v, ok
}
