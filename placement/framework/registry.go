package framework

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Factory builds a plugin from its args, raw JSON that may be empty. A bad
// arg is an error naming the field below "args" (see DecodeArgs), e.g.
// "args.allowUnknown: must be a boolean".
type Factory func(args json.RawMessage) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]Factory

// Register adds a factory; a name that is already taken is an error.
func (r Registry) Register(name string, f Factory) error {
	if name == "" {
		return fmt.Errorf("plugin name must not be empty")
	}
	if f == nil {
		return fmt.Errorf("plugin %q: factory must not be nil", name)
	}
	if _, ok := r[name]; ok {
		return fmt.Errorf("plugin %q is already registered", name)
	}
	r[name] = f
	return nil
}

// Merge adds every factory of o; a name present in both is an error.
func (r Registry) Merge(o Registry) error {
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if err := r.Register(name, o[name]); err != nil {
			return err
		}
	}
	return nil
}

// Names returns the registered names, sorted.
func (r Registry) Names() []string { return slices.Sorted(maps.Keys(r)) }

// PluginRef enables a filter plugin with optional args.
type PluginRef struct {
	// Name in the registry.
	Name string `json:"name"`
	// Args of the plugin; empty for the defaults.
	Args json.RawMessage `json:"args,omitempty"`
}

// WeightedPluginRef enables a score plugin with a weight.
type WeightedPluginRef struct {
	// Name in the registry.
	Name string `json:"name"`
	// Weight multiplies the plugin's 0..100 score; 1..100.
	Weight int32 `json:"weight"`
	// Args of the plugin; empty for the defaults.
	Args json.RawMessage `json:"args,omitempty"`
}

// ProfileConfig is an ordered list of filters plus weighted scorers.
type ProfileConfig struct {
	// Name identifies the profile in results, e.g. "Workload" for a
	// built-in profile or a PlacementPolicy's name.
	Name string
	// Strategy the profile places for; StrategyRole reads it.
	Strategy fleetv1alpha1.Strategy
	// Filters in the order they run.
	Filters []PluginRef
	// Scores and their weights.
	Scores []WeightedPluginRef
}
