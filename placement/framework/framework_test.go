package framework_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

// filterFunc is a filter plugin whose verdict is a function of the member.
type filterFunc struct {
	name string
	fn   func(m *framework.Member) *framework.Status
}

func (f *filterFunc) Name() string { return f.name }
func (f *filterFunc) Filter(_ context.Context, _ *framework.CycleState, _ *framework.Service, m *framework.Member) *framework.Status {
	return f.fn(m)
}

// batchFilter counts its batch calls and rejects the named clusters.
type batchFilter struct {
	reject map[string]bool
	calls  *int
}

func (*batchFilter) Name() string { return "Batch" }
func (b *batchFilter) Filter(context.Context, *framework.CycleState, *framework.Service, *framework.Member) *framework.Status {
	panic("Filter must not be called when FilterBatch exists")
}
func (b *batchFilter) FilterBatch(_ context.Context, _ *framework.CycleState, _ *framework.Service, ms []*framework.Member, out []*framework.Status) {
	*b.calls++
	st := framework.NewStatus(framework.Unschedulable, "rejected in batch")
	for i, m := range ms {
		if b.reject[m.Name] {
			out[i] = st
		}
	}
}

// preFilter rejects everything with a fixed status.
type preFilter struct{ st *framework.Status }

func (*preFilter) Name() string { return "Pre" }
func (p *preFilter) PreFilter(context.Context, *framework.CycleState, *framework.Service) *framework.Status {
	return p.st
}
func (*preFilter) Filter(context.Context, *framework.CycleState, *framework.Service, *framework.Member) *framework.Status {
	return nil
}

// scoreMap scores from a map; with normalize it maps min..max to 0..100.
type scoreMap struct {
	name      string
	scores    map[string]int64
	normalize bool
}

func (s *scoreMap) Name() string { return s.name }
func (s *scoreMap) Score(_ context.Context, _ *framework.CycleState, _ *framework.Service, m *framework.Member) (int64, *framework.Status) {
	return s.scores[m.Name], nil
}
func (s *scoreMap) ScoreExtensions() framework.ScoreExtensions {
	if s.normalize {
		return s
	}
	return nil
}
func (s *scoreMap) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.Service, l framework.ClusterScoreList) *framework.Status {
	lo, hi := l[0].Score, l[0].Score
	for _, c := range l {
		lo, hi = min(lo, c.Score), max(hi, c.Score)
	}
	for i := range l {
		if hi == lo {
			l[i].Score = 100
		} else {
			l[i].Score = 100 * (l[i].Score - lo) / (hi - lo)
		}
	}
	return nil
}

// registry registers fixed plugin instances under their names.
func registry(ps ...framework.Plugin) framework.Registry {
	r := framework.Registry{}
	for _, p := range ps {
		r[p.Name()] = func(json.RawMessage) (framework.Plugin, error) { return p, nil }
	}
	return r
}

func snapshotOf(names ...string) *framework.Snapshot {
	var mcs []*fleetv1alpha1.MemberCluster
	for _, n := range names {
		mcs = append(mcs, ptesting.NewMember(n).Build())
	}
	return framework.NewSnapshot(mcs)
}

func service() *framework.Service {
	return framework.NewService(ptesting.NewService("team", "db").Build())
}

func TestRunScoring(t *testing.T) {
	testCases := []struct {
		name       string
		scorers    []framework.Plugin
		weights    []int32
		wantOrder  []string
		wantTotals []int64
	}{
		{
			name:       "weights decide the winner",
			scorers:    []framework.Plugin{&scoreMap{name: "A", scores: map[string]int64{"a": 100, "b": 0}}, &scoreMap{name: "B", scores: map[string]int64{"a": 0, "b": 60}}},
			weights:    []int32{1, 2},
			wantOrder:  []string{"b", "a", "c"},
			wantTotals: []int64{120, 100, 0},
		},
		{
			name:       "other weights, other winner",
			scorers:    []framework.Plugin{&scoreMap{name: "A", scores: map[string]int64{"a": 100, "b": 0}}, &scoreMap{name: "B", scores: map[string]int64{"a": 0, "b": 60}}},
			weights:    []int32{2, 1},
			wantOrder:  []string{"a", "b", "c"},
			wantTotals: []int64{200, 60, 0},
		},
		{
			name:       "ties go to the first name",
			scorers:    []framework.Plugin{&scoreMap{name: "A", scores: map[string]int64{"a": 50, "b": 50, "c": 50}}},
			weights:    []int32{3},
			wantOrder:  []string{"a", "b", "c"},
			wantTotals: []int64{150, 150, 150},
		},
		{
			name:       "normalisation maps raw scores into 0..100",
			scorers:    []framework.Plugin{&scoreMap{name: "N", scores: map[string]int64{"a": 1000, "b": 3000, "c": 2000}, normalize: true}},
			weights:    []int32{1},
			wantOrder:  []string{"b", "c", "a"},
			wantTotals: []int64{100, 50, 0},
		},
		{
			name:       "no scorers keeps name order",
			wantOrder:  []string{"a", "b", "c"},
			wantTotals: []int64{0, 0, 0},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg := framework.ProfileConfig{Name: "p", Strategy: fleetv1alpha1.StrategyDedicated}
			for i, s := range tc.scorers {
				cfg.Scores = append(cfg.Scores, framework.WeightedPluginRef{Name: s.Name(), Weight: tc.weights[i]})
			}
			f, err := framework.New(registry(tc.scorers...), cfg)
			g.Expect(err).NotTo(HaveOccurred())
			res, err := f.Run(context.Background(), service(), snapshotOf("c", "b", "a"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Feasible).To(Equal(3))
			var order []string
			var totals []int64
			for _, c := range res.Candidates() {
				order = append(order, c.Cluster)
				totals = append(totals, c.Total)
			}
			g.Expect(order).To(Equal(tc.wantOrder))
			g.Expect(totals).To(Equal(tc.wantTotals))
			g.Expect(res.Best().Cluster).To(Equal(tc.wantOrder[0]))
		})
	}
}

func TestRunRecordsRawNormalisedAndWeighted(t *testing.T) {
	g := NewWithT(t)
	n := &scoreMap{name: "N", scores: map[string]int64{"a": 10, "b": 30}, normalize: true}
	f, err := framework.New(registry(n), framework.ProfileConfig{Scores: []framework.WeightedPluginRef{{Name: "N", Weight: 4}}})
	g.Expect(err).NotTo(HaveOccurred())
	res, err := f.Run(context.Background(), service(), snapshotOf("a", "b"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Find("b").Scores).To(Equal([]framework.ScoreRecord{{Raw: 30, Score: 100, Weighted: 400}}))
	g.Expect(res.Find("a").Scores).To(Equal([]framework.ScoreRecord{{Raw: 10, Score: 0, Weighted: 0}}))

	d := res.Decision(1)
	g.Expect(d.Cluster).To(Equal("b"))
	g.Expect(d.Score).To(Equal(int64(400)))
	g.Expect(d.Candidates).To(Equal([]fleetv1alpha1.Candidate{{
		Cluster: "b", Feasible: true, Score: 400,
		Scores: []fleetv1alpha1.PluginScore{{Plugin: "N", Score: 100, Weighted: 400}},
	}}))
}

func TestRunFilters(t *testing.T) {
	rejectB := &filterFunc{name: "RejectB", fn: func(m *framework.Member) *framework.Status {
		if m.Name == "b" {
			return framework.NewStatus(framework.Unschedulable, "b is full")
		}
		return nil
	}}
	rejectC := &filterFunc{name: "RejectC", fn: func(m *framework.Member) *framework.Status {
		if m.Name == "c" {
			return framework.Unschedulablef("c is %s", "far")
		}
		return framework.NewStatus(framework.Success, "")
	}}
	broken := &filterFunc{name: "Broken", fn: func(m *framework.Member) *framework.Status {
		if m.Name == "c" {
			return framework.AsStatus(errors.New("lookup failed"))
		}
		return nil
	}}
	testCases := []struct {
		name         string
		filters      []framework.Plugin
		wantErr      string
		wantFeasible []string
		wantReasons  map[string]string
		wantOrder    []string
	}{
		{
			name:         "unschedulable clusters are recorded with the filter and reason",
			filters:      []framework.Plugin{rejectB, rejectC},
			wantFeasible: []string{"a", "d"},
			wantReasons:  map[string]string{"b": "RejectB: b is full", "c": "RejectC: c is far"},
			// Infeasible: rejected by the later filter first.
			wantOrder: []string{"a", "d", "c", "b"},
		},
		{
			name:    "an error aborts the decision instead of rejecting the cluster",
			filters: []framework.Plugin{rejectB, broken},
			wantErr: "filter Broken on cluster c: lookup failed",
		},
		{
			name:    "a rejected cluster is not passed to later filters",
			filters: []framework.Plugin{rejectC, broken},
			// Broken would fail on c, but c is already rejected.
			wantFeasible: []string{"a", "b", "d"},
			wantReasons:  map[string]string{"c": "RejectC: c is far"},
			wantOrder:    []string{"a", "b", "d", "c"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg := framework.ProfileConfig{}
			for _, f := range tc.filters {
				cfg.Filters = append(cfg.Filters, framework.PluginRef{Name: f.Name()})
			}
			f, err := framework.New(registry(tc.filters...), cfg)
			g.Expect(err).NotTo(HaveOccurred())
			res, err := f.Run(context.Background(), service(), snapshotOf("d", "c", "b", "a"))
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			var feasible, order []string
			reasons := map[string]string{}
			for _, c := range res.Candidates() {
				order = append(order, c.Cluster)
				if c.Feasible() {
					feasible = append(feasible, c.Cluster)
				} else {
					reasons[c.Cluster] = res.Reason(&c)
				}
			}
			g.Expect(feasible).To(Equal(tc.wantFeasible))
			g.Expect(reasons).To(Equal(tc.wantReasons))
			g.Expect(order).To(Equal(tc.wantOrder))
		})
	}
}

func TestFilterVerdicts(t *testing.T) {
	g := NewWithT(t)
	pass := &filterFunc{name: "Pass", fn: func(*framework.Member) *framework.Status { return nil }}
	no := &filterFunc{name: "No", fn: func(*framework.Member) *framework.Status { return framework.NewStatus(framework.Unschedulable, "nope") }}
	last := &filterFunc{name: "Last", fn: func(*framework.Member) *framework.Status { return nil }}
	f, err := framework.New(registry(pass, no, last), framework.ProfileConfig{Filters: []framework.PluginRef{{Name: "Pass"}, {Name: "No"}, {Name: "Last"}}})
	g.Expect(err).NotTo(HaveOccurred())
	res, err := f.Run(context.Background(), service(), snapshotOf("a"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Best()).To(BeNil())
	g.Expect(res.FilterVerdicts(res.Find("a"))).To(Equal([]framework.FilterVerdict{
		{Plugin: "Pass", Verdict: framework.Passed},
		{Plugin: "No", Verdict: framework.Rejected, Reason: "nope"},
		{Plugin: "Last", Verdict: framework.Skipped},
	}))
	g.Expect(res.RejectingPlugins()).To(Equal([]string{"No"}))
	g.Expect(res.Summary()).To(Equal("0/1 clusters fit: No rejected 1 (a: nope)"))
}

func TestBatchAndPreFilter(t *testing.T) {
	g := NewWithT(t)
	calls := 0
	b := &batchFilter{reject: map[string]bool{"b": true}, calls: &calls}
	f, err := framework.New(registry(b), framework.ProfileConfig{Filters: []framework.PluginRef{{Name: "Batch"}}})
	g.Expect(err).NotTo(HaveOccurred())
	res, err := f.Run(context.Background(), service(), snapshotOf("a", "b", "c"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(calls).To(Equal(1))
	g.Expect(res.Feasible).To(Equal(2))
	g.Expect(res.Reason(res.Find("b"))).To(Equal("Batch: rejected in batch"))

	pre := &preFilter{st: framework.NewStatus(framework.Unschedulable, "selector invalid")}
	f, err = framework.New(registry(pre), framework.ProfileConfig{Filters: []framework.PluginRef{{Name: "Pre"}}})
	g.Expect(err).NotTo(HaveOccurred())
	res, err = f.Run(context.Background(), service(), snapshotOf("a", "b"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Feasible).To(Equal(0))
	g.Expect(res.Summary()).To(Equal("0/2 clusters fit: Pre rejected 2 (a: selector invalid)"))

	pre.st = framework.NewStatus(framework.Error, "boom")
	_, err = f.Run(context.Background(), service(), snapshotOf("a"))
	g.Expect(err).To(MatchError(ContainSubstring("pre-filter Pre")))
}

func TestScoreOutOfRangeIsAnError(t *testing.T) {
	g := NewWithT(t)
	s := &scoreMap{name: "Big", scores: map[string]int64{"a": 101}}
	f, err := framework.New(registry(s), framework.ProfileConfig{Scores: []framework.WeightedPluginRef{{Name: "Big", Weight: 1}}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = f.Run(context.Background(), service(), snapshotOf("a"))
	g.Expect(err).To(MatchError(ContainSubstring("score Big on cluster a: 101 is outside 0..100")))
}

func TestNewReportsEveryBadEntry(t *testing.T) {
	g := NewWithT(t)
	reg := registry(
		&filterFunc{name: "F", fn: func(*framework.Member) *framework.Status { return nil }},
		&scoreMap{name: "S"},
	)
	reg["WithArgs"] = func(raw json.RawMessage) (framework.Plugin, error) {
		var a struct {
			AllowUnknown bool `json:"allowUnknown"`
		}
		if err := framework.DecodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return &scoreMap{name: "WithArgs"}, nil
	}
	_, err := framework.New(reg, framework.ProfileConfig{
		Filters: []framework.PluginRef{{Name: "F"}, {Name: "Nope"}, {Name: "S"}, {Name: "F"}, {Name: ""}},
		Scores: []framework.WeightedPluginRef{
			{Name: "S", Weight: 0}, {Name: "F", Weight: 1}, {Name: "WithArgs", Weight: 101, Args: json.RawMessage(`{"allowUnknown":"yes"}`)},
		},
	})
	g.Expect(err).To(HaveOccurred())
	lines := strings.Split(err.Error(), "\n")
	g.Expect(lines).To(ConsistOf(
		HavePrefix(`filters[1].name: unknown plugin "Nope"`),
		`filters[2].name: plugin "S" is not a filter plugin`,
		`filters[3].name: duplicate plugin "F"`,
		`filters[4].name: must not be empty`,
		`scores[0].weight: must be 1..100, got 0`,
		`scores[1].name: plugin "F" is not a score plugin`,
		`scores[2].weight: must be 1..100, got 101`,
		`scores[2].args.allowUnknown: must be a boolean`,
	))
}

func TestDeterministicUnderShuffledInput(t *testing.T) {
	g := NewWithT(t)
	fleet := ptesting.Fleet(200, 7)
	scores := map[string]int64{}
	for i, mc := range fleet {
		scores[mc.Name] = int64(i % 7 * 10) // many ties
	}
	s := &scoreMap{name: "S", scores: scores}
	odd := &filterFunc{name: "Odd", fn: func(m *framework.Member) *framework.Status {
		if len(m.Name)%2 == 0 && m.Name[len(m.Name)-1]%3 == 0 {
			return framework.NewStatus(framework.Unschedulable, "no")
		}
		return nil
	}}
	f, err := framework.New(registry(s, odd), framework.ProfileConfig{
		Filters: []framework.PluginRef{{Name: "Odd"}},
		Scores:  []framework.WeightedPluginRef{{Name: "S", Weight: 3}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	svc := service()
	first, err := f.Run(context.Background(), svc, framework.NewSnapshot(fleet))
	g.Expect(err).NotTo(HaveOccurred())
	want := first.Decision(len(fleet))
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]*fleetv1alpha1.MemberCluster(nil), fleet...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		res, err := f.Run(context.Background(), svc, framework.NewSnapshot(shuffled))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.Decision(len(fleet))).To(Equal(want))
	}
}

func TestDecisionTopN(t *testing.T) {
	g := NewWithT(t)
	no := &filterFunc{name: "No", fn: func(m *framework.Member) *framework.Status {
		if m.Name == "a" {
			return framework.NewStatus(framework.Unschedulable, "full")
		}
		return nil
	}}
	f, err := framework.New(registry(no), framework.ProfileConfig{Strategy: fleetv1alpha1.StrategyDedicated, Filters: []framework.PluginRef{{Name: "No"}}})
	g.Expect(err).NotTo(HaveOccurred())
	res, err := f.Run(context.Background(), service(), snapshotOf("a", "b", "c"))
	g.Expect(err).NotTo(HaveOccurred())
	d := res.Decision(2)
	g.Expect(d.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
	g.Expect(d.Cluster).To(Equal("b"))
	g.Expect(d.Candidates).To(HaveLen(2))
	g.Expect(res.Decision(10).Candidates).To(HaveLen(3))
	g.Expect(res.Decision(10).Candidates[2]).To(Equal(fleetv1alpha1.Candidate{Cluster: "a", Reason: "No: full"}))
	g.Expect(res.Decision(0).Candidates).To(BeNil())
}

func TestContextCancelled(t *testing.T) {
	g := NewWithT(t)
	pass := &filterFunc{name: "Pass", fn: func(*framework.Member) *framework.Status { return nil }}
	f, err := framework.New(registry(pass), framework.ProfileConfig{Filters: []framework.PluginRef{{Name: "Pass"}}})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.Run(ctx, service(), snapshotOf("a"))
	g.Expect(err).To(MatchError(context.Canceled))
}

func TestRegistry(t *testing.T) {
	g := NewWithT(t)
	r := framework.Registry{}
	factory := func(json.RawMessage) (framework.Plugin, error) { return nil, nil }
	g.Expect(r.Register("A", factory)).To(Succeed())
	g.Expect(r.Register("A", factory)).To(MatchError(`plugin "A" is already registered`))
	g.Expect(r.Register("", factory)).To(HaveOccurred())
	g.Expect(r.Register("B", nil)).To(HaveOccurred())
	g.Expect(r.Merge(framework.Registry{"C": factory})).To(Succeed())
	g.Expect(r.Merge(framework.Registry{"A": factory})).To(HaveOccurred())
	g.Expect(r.Names()).To(Equal([]string{"A", "C"}))
	_, err := framework.New(r, framework.ProfileConfig{Filters: []framework.PluginRef{{Name: "A"}}})
	g.Expect(err).To(MatchError(`filters[0].name: plugin "A" factory returned nil`))
}
