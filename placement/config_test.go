package placement_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement"
	"github.com/berth-io/berth/placement/framework"
	"github.com/berth-io/berth/placement/plugins"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "placement.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultConfigIsValid(t *testing.T) {
	g := NewWithT(t)
	reg, err := placement.NewRegistry()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(placement.DefaultConfig().Validate(reg)).To(Succeed())
	p, err := placement.NewPlacer(reg, nil)
	g.Expect(err).NotTo(HaveOccurred())
	for _, s := range placement.Strategies {
		g.Expect(p.Profile(s)).NotTo(BeNil())
		g.Expect(p.Profile(s).FilterNames()[0]).To(Equal(plugins.StrategyRoleName))
	}
}

func TestLoadConfig(t *testing.T) {
	g := NewWithT(t)
	path := writeConfig(t, `
apiVersion: placement.berth.io/v1alpha1
kind: PlacementConfiguration
candidatesToRecord: 3
profiles:
- strategy: Dedicated
  filters:
  - name: StrategyRole
  - name: Available
  - name: MaxLatency
    args:
      allowUnknown: true
  scores:
  - name: Latency
    weight: 7
  - name: Spread
- strategy: Management
  scores:
  - name: Steady
    weight: 100
`)
	cfg, err := placement.LoadConfig(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.CandidatesToRecord).To(Equal(int32(3)))
	p, err := placement.NewPlacer(nil, cfg)
	g.Expect(err).NotTo(HaveOccurred())

	ded := p.Profile(fleetv1alpha1.StrategyDedicated)
	g.Expect(ded.FilterNames()).To(Equal([]string{"StrategyRole", "Available", "MaxLatency"}))
	g.Expect(ded.Scorers()).To(HaveLen(2))
	g.Expect(ded.Scorers()[0].Weight).To(Equal(int64(7)))
	g.Expect(ded.Scorers()[1].Weight).To(Equal(int64(1)), "weight defaults to 1")

	// Management keeps the built-in filters, with its own scores.
	mgmt := p.Profile(fleetv1alpha1.StrategyManagement)
	g.Expect(mgmt.FilterNames()).To(Equal(p.Profile(fleetv1alpha1.StrategyWorkload).FilterNames()))
	g.Expect(mgmt.Scorers()).To(HaveLen(1))
	// Workload is not listed: built-in.
	g.Expect(p.Profile(fleetv1alpha1.StrategyWorkload).Scorers()).To(HaveLen(2))
}

func TestLoadConfigErrors(t *testing.T) {
	testCases := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "weight out of range",
			body: `
profiles:
- strategy: Workload
- strategy: Dedicated
  scores:
  - name: Latency
    weight: 0
  - name: Spread
    weight: 101`,
			want: []string{"profiles[1].scores[0].weight: must be 1..100, got 0", "profiles[1].scores[1].weight: must be 1..100, got 101"},
		},
		{
			name: "unknown plugin and wrong kind of plugin",
			body: `
profiles:
- strategy: Management
  filters:
  - name: StrategyRole
  - name: Magic
  scores:
  - name: CapacityFit`,
			want: []string{`profiles[0].filters[1].name: unknown plugin "Magic"`, `profiles[0].scores[0].name: plugin "CapacityFit" is not a score plugin`},
		},
		{
			name: "bad plugin args",
			body: `
profiles:
- strategy: Workload
  filters:
  - name: StrategyRole
  - name: MaxLatency
    args: {allowUnknown: "sometimes"}`,
			want: []string{"profiles[0].filters[1].args.allowUnknown: must be a boolean"},
		},
		{
			name: "strategy problems",
			body: `
profiles:
- strategy: Workload
- strategy: Everywhere
- strategy: Workload`,
			want: []string{`profiles[1].strategy: must be one of [Workload Management Dedicated], got "Everywhere"`, "profiles[2].strategy: duplicate strategy Workload (also profiles[0])"},
		},
		{
			name: "StrategyRole is required",
			body: `
profiles:
- strategy: Dedicated
  filters: [{name: Available}]`,
			want: []string{"profiles[0].filters: must include StrategyRole, which defines the strategy"},
		},
		{
			name: "unknown field",
			body: `
profiles:
- strategy: Dedicated
  scorers: []`,
			want: []string{"profiles[0].scorers: unknown field"},
		},
		{
			name: "wrong type",
			body: `candidatesToRecord: many`,
			want: []string{"candidatesToRecord: must be an integer"},
		},
		{
			name: "header and bounds",
			body: `
apiVersion: v1
kind: Pod
candidatesToRecord: 51`,
			want: []string{`apiVersion: must be placement.berth.io/v1alpha1, got "v1"`, `kind: must be PlacementConfiguration, got "Pod"`, "candidatesToRecord: must be 1..50, got 51"},
		},
		{
			name: "duplicate YAML key",
			body: "candidatesToRecord: 1\ncandidatesToRecord: 2\n",
			want: []string{"parsing YAML"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			path := writeConfig(t, tc.body)
			_, err := placement.LoadConfig(path)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(HavePrefix("placement config " + path + ": "))
			for _, w := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
			if len(tc.want) > 1 {
				g.Expect(strings.Count(err.Error(), "\n")).To(BeNumerically(">=", len(tc.want)-1))
			}
		})
	}
	_, err := placement.LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"))
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("reading placement config")))
}

func TestRegisterOutOfTree(t *testing.T) {
	g := NewWithT(t)
	reg := plugins.NewInTreeRegistry()
	g.Expect(placement.Register(plugins.CapacityFitName, reg[plugins.CapacityFitName])).To(MatchError(`plugin "CapacityFit" is an in-tree plugin`))
	g.Expect(placement.Register("TestOnlyPlugin", reg[plugins.SteadyName])).To(Succeed())
	g.Expect(placement.Register("TestOnlyPlugin", reg[plugins.SteadyName])).To(HaveOccurred())
	all, err := placement.NewRegistry()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(all).To(HaveKey("TestOnlyPlugin"))
	_, err = placement.NewRegistry(framework.Registry{"TestOnlyPlugin": reg[plugins.SteadyName]})
	g.Expect(err).To(MatchError(`plugin "TestOnlyPlugin" is already registered`))
}

func TestSampleConfigIsTheDefault(t *testing.T) {
	g := NewWithT(t)
	cfg, err := placement.LoadConfig(filepath.Join("testdata", "placement-config.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg).To(Equal(placement.DefaultConfig()))
}
