package placement

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"sigs.k8s.io/yaml"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
	"github.com/berth-io/berth/placement/plugins"
)

// Config file identity.
const (
	// ConfigAPIVersion is the apiVersion of a placement config file.
	ConfigAPIVersion = "placement.berth.io/v1alpha1"
	// ConfigKind is the kind of a placement config file.
	ConfigKind = "PlacementConfiguration"
	// DefaultCandidatesToRecord is how many candidates status keeps.
	DefaultCandidatesToRecord = 5
	// MaxCandidatesToRecord bounds candidatesToRecord.
	MaxCandidatesToRecord = 50
)

// Strategies are the strategies in their canonical order.
var Strategies = []fleetv1alpha1.Strategy{
	fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyManagement, fleetv1alpha1.StrategyDedicated,
}

// Config is the hub-wide placement configuration, read from the file named
// by the hub's --placement-config flag. It sets, per strategy, the plugins
// the built-in profile runs and the default weights; PlacementPolicies
// start from these profiles.
type Config struct {
	// APIVersion must be ConfigAPIVersion when set.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind must be ConfigKind when set.
	Kind string `json:"kind,omitempty"`
	// CandidatesToRecord is how many candidates status.placement keeps
	// when a policy does not say; 1..50, default 5.
	CandidatesToRecord int32 `json:"candidatesToRecord,omitempty"`
	// Profiles replace the built-in profile of their strategy. A strategy
	// without a profile keeps the built-in one; a profile without filters
	// (or scores) keeps the built-in filters (or scores).
	Profiles []ProfileConfig `json:"profiles,omitempty"`
}

// ProfileConfig is one strategy's profile.
type ProfileConfig struct {
	// Strategy is Workload, Management or Dedicated.
	Strategy fleetv1alpha1.Strategy `json:"strategy"`
	// Filters in the order they run; must include StrategyRole.
	Filters []PluginConfig `json:"filters,omitempty"`
	// Scores and their weights.
	Scores []ScoreConfig `json:"scores,omitempty"`
}

// PluginConfig enables a filter plugin.
type PluginConfig struct {
	// Name of the plugin.
	Name string `json:"name"`
	// Args of the plugin.
	Args json.RawMessage `json:"args,omitempty"`
}

// ScoreConfig enables a score plugin with a weight.
type ScoreConfig struct {
	// Name of the plugin.
	Name string `json:"name"`
	// Weight, 1..100; default 1.
	Weight *int32 `json:"weight,omitempty"`
	// Args of the plugin.
	Args json.RawMessage `json:"args,omitempty"`
}

func filters(names ...string) []PluginConfig {
	out := make([]PluginConfig, len(names))
	for i, n := range names {
		out[i] = PluginConfig{Name: n}
	}
	return out
}

func score(name string, weight int32) ScoreConfig {
	return ScoreConfig{Name: name, Weight: &weight}
}

// DefaultConfig returns the built-in profiles:
//
//   - every strategy filters with StrategyRole, Available, EngineSupport,
//     CapacityFit and MaxLatency;
//   - Workload has a single candidate and scores it with CoLocation and
//     CapacityHeadroom, only for the record;
//   - Management and Dedicated score Latency (3), CapacityHeadroom (2),
//     Spread (2), PreferNoPlace (5) and Steady (10). Steady's weight keeps
//     the better-candidate hint for placed services quiet unless another
//     cluster is clearly better.
func DefaultConfig() *Config {
	all := func() []PluginConfig {
		return filters(plugins.StrategyRoleName, plugins.AvailableName, plugins.EngineSupportName,
			plugins.CapacityFitName, plugins.MaxLatencyName)
	}
	remote := func() []ScoreConfig {
		return []ScoreConfig{
			score(plugins.LatencyName, 3), score(plugins.CapacityHeadroomName, 2), score(plugins.SpreadName, 2),
			score(plugins.PreferNoPlaceName, 5), score(plugins.SteadyName, 10),
		}
	}
	return &Config{
		APIVersion:         ConfigAPIVersion,
		Kind:               ConfigKind,
		CandidatesToRecord: DefaultCandidatesToRecord,
		Profiles: []ProfileConfig{
			{Strategy: fleetv1alpha1.StrategyWorkload, Filters: all(),
				Scores: []ScoreConfig{score(plugins.CoLocationName, 1), score(plugins.CapacityHeadroomName, 1)}},
			{Strategy: fleetv1alpha1.StrategyManagement, Filters: all(), Scores: remote()},
			{Strategy: fleetv1alpha1.StrategyDedicated, Filters: all(), Scores: remote()},
		},
	}
}

// LoadConfig reads a placement config file (YAML or JSON), fills in the
// defaults and validates it against NewRegistry(). Errors name the file and
// the field, e.g. "profiles[1].scores[0].weight: must be 1..100, got 0".
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading placement config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("placement config %s: %w", path, err)
	}
	reg, err := NewRegistry()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(reg); err != nil {
		return nil, fmt.Errorf("placement config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a config strictly (unknown fields, wrong types and
// duplicate keys are errors) and fills in the defaults. It does not
// validate plugin names or args; Validate does.
func ParseConfig(data []byte) (*Config, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	cfg := &Config{}
	if err := framework.DecodeStrict("", j, cfg); err != nil {
		return nil, err
	}
	cfg.Default()
	return cfg, nil
}

// Default fills in what the file left out: candidatesToRecord, missing
// profiles, missing filter or score lists, and score weights.
func (c *Config) Default() {
	if c.CandidatesToRecord == 0 {
		c.CandidatesToRecord = DefaultCandidatesToRecord
	}
	def := DefaultConfig()
	for _, dp := range def.Profiles {
		i := slices.IndexFunc(c.Profiles, func(p ProfileConfig) bool { return p.Strategy == dp.Strategy })
		if i < 0 {
			c.Profiles = append(c.Profiles, dp)
			continue
		}
		if c.Profiles[i].Filters == nil {
			c.Profiles[i].Filters = dp.Filters
		}
		if c.Profiles[i].Scores == nil {
			c.Profiles[i].Scores = dp.Scores
		}
	}
	for i := range c.Profiles {
		for j := range c.Profiles[i].Scores {
			if c.Profiles[i].Scores[j].Weight == nil {
				one := int32(1)
				c.Profiles[i].Scores[j].Weight = &one
			}
		}
	}
}

// Validate checks the config against a registry and reports every problem
// with the field's path.
func (c *Config) Validate(reg framework.Registry) error {
	var errs []error
	if c.APIVersion != "" && c.APIVersion != ConfigAPIVersion {
		errs = append(errs, framework.FieldErrorf("apiVersion", "must be %s, got %q", ConfigAPIVersion, c.APIVersion))
	}
	if c.Kind != "" && c.Kind != ConfigKind {
		errs = append(errs, framework.FieldErrorf("kind", "must be %s, got %q", ConfigKind, c.Kind))
	}
	if c.CandidatesToRecord < 1 || c.CandidatesToRecord > MaxCandidatesToRecord {
		errs = append(errs, framework.FieldErrorf("candidatesToRecord", "must be 1..%d, got %d", MaxCandidatesToRecord, c.CandidatesToRecord))
	}
	seen := map[fleetv1alpha1.Strategy]int{}
	for i, p := range c.Profiles {
		path := "profiles[" + strconv.Itoa(i) + "]"
		if !slices.Contains(Strategies, p.Strategy) {
			errs = append(errs, framework.FieldErrorf(path+".strategy", "must be one of %v, got %q", Strategies, p.Strategy))
			continue
		}
		if j, dup := seen[p.Strategy]; dup {
			errs = append(errs, framework.FieldErrorf(path+".strategy", "duplicate strategy %s (also profiles[%d])", p.Strategy, j))
			continue
		}
		seen[p.Strategy] = i
		if _, err := p.framework(reg); err != nil {
			errs = append(errs, framework.PrefixField(path, err))
		}
	}
	return errors.Join(errs...)
}

// profileConfig converts to the framework's form.
func (p *ProfileConfig) profileConfig() framework.ProfileConfig {
	pc := framework.ProfileConfig{Name: string(p.Strategy), Strategy: p.Strategy}
	for _, f := range p.Filters {
		pc.Filters = append(pc.Filters, framework.PluginRef{Name: f.Name, Args: f.Args})
	}
	for _, s := range p.Scores {
		w := int32(1)
		if s.Weight != nil {
			w = *s.Weight
		}
		pc.Scores = append(pc.Scores, framework.WeightedPluginRef{Name: s.Name, Weight: w, Args: s.Args})
	}
	return pc
}

func (p *ProfileConfig) framework(reg framework.Registry) (*framework.Framework, error) {
	pc := p.profileConfig()
	return newProfile(reg, pc)
}

// newProfile builds a framework and checks that it keeps StrategyRole.
func newProfile(reg framework.Registry, pc framework.ProfileConfig) (*framework.Framework, error) {
	var errs []error
	if !slices.ContainsFunc(pc.Filters, func(r framework.PluginRef) bool { return r.Name == plugins.StrategyRoleName }) {
		errs = append(errs, framework.FieldErrorf("filters", "must include %s, which defines the strategy", plugins.StrategyRoleName))
	}
	f, err := framework.New(reg, pc)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}
