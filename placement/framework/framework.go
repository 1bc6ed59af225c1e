package framework

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Framework runs one profile: its filters in order, then its weighted
// scorers. A Framework is immutable and safe for concurrent use, provided its
// plugins are (the in-tree plugins are stateless).
type Framework struct {
	name     string
	strategy fleetv1alpha1.Strategy

	filters    []FilterPlugin
	preFilters []PreFilterPlugin // indexed like filters; nil entries
	batch      []BatchFilterPlugin
	scorers    []ScorePlugin
	preScores  []PreScorePlugin
	extensions []ScoreExtensions
	weights    []int64

	filterNames []string
	scorerInfo  []ScorerInfo
}

// ScorerInfo names a scorer of a profile and its weight.
type ScorerInfo struct {
	// Name of the plugin.
	Name string
	// Weight of the plugin.
	Weight int64
}

// New builds the Framework of a profile. Errors name the offending entry,
// e.g. "filters[2].name: unknown plugin \"Foo\"" or
// "scores[0].args.allowUnknown: must be a boolean"; every problem is
// reported, joined with errors.Join.
func New(reg Registry, cfg ProfileConfig) (*Framework, error) {
	f := &Framework{name: cfg.Name, strategy: cfg.Strategy}
	var errs []error
	seen := map[string]bool{}
	for i, ref := range cfg.Filters {
		path := "filters[" + strconv.Itoa(i) + "]"
		p, err := instantiate(reg, path, ref.Name, ref.Args, seen)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fp, ok := p.(FilterPlugin)
		if !ok {
			errs = append(errs, FieldErrorf(path+".name", "plugin %q is not a filter plugin", ref.Name))
			continue
		}
		pre, _ := p.(PreFilterPlugin)
		batch, _ := p.(BatchFilterPlugin)
		f.filters = append(f.filters, fp)
		f.preFilters = append(f.preFilters, pre)
		f.batch = append(f.batch, batch)
		f.filterNames = append(f.filterNames, ref.Name)
	}
	seen = map[string]bool{}
	for i, ref := range cfg.Scores {
		path := "scores[" + strconv.Itoa(i) + "]"
		if ref.Weight < 1 || ref.Weight > MaxWeight {
			errs = append(errs, FieldErrorf(path+".weight", "must be 1..%d, got %d", MaxWeight, ref.Weight))
		}
		p, err := instantiate(reg, path, ref.Name, ref.Args, seen)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sp, ok := p.(ScorePlugin)
		if !ok {
			errs = append(errs, FieldErrorf(path+".name", "plugin %q is not a score plugin", ref.Name))
			continue
		}
		pre, _ := p.(PreScorePlugin)
		f.scorers = append(f.scorers, sp)
		f.preScores = append(f.preScores, pre)
		f.extensions = append(f.extensions, sp.ScoreExtensions())
		f.weights = append(f.weights, int64(ref.Weight))
		f.scorerInfo = append(f.scorerInfo, ScorerInfo{Name: ref.Name, Weight: int64(ref.Weight)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func instantiate(reg Registry, path, name string, args []byte, seen map[string]bool) (Plugin, error) {
	if name == "" {
		return nil, FieldErrorf(path+".name", "must not be empty")
	}
	if seen[name] {
		return nil, FieldErrorf(path+".name", "duplicate plugin %q", name)
	}
	seen[name] = true
	factory, ok := reg[name]
	if !ok {
		return nil, FieldErrorf(path+".name", "unknown plugin %q (registered: %v)", name, reg.Names())
	}
	p, err := factory(args)
	if err != nil {
		return nil, PrefixField(path, err)
	}
	if p == nil {
		return nil, FieldErrorf(path+".name", "plugin %q factory returned nil", name)
	}
	return p, nil
}

// Name of the profile.
func (f *Framework) Name() string { return f.name }

// Strategy the profile places for.
func (f *Framework) Strategy() fleetv1alpha1.Strategy { return f.strategy }

// FilterNames are the filters in order.
func (f *Framework) FilterNames() []string { return slices.Clone(f.filterNames) }

// Scorers are the scorers and their weights.
func (f *Framework) Scorers() []ScorerInfo { return slices.Clone(f.scorerInfo) }

// Run places svc over the members of snap and records why. It returns an
// error only when a plugin returns an Error status or ctx ends; a service
// that fits nowhere is a Result with no feasible candidate.
func (f *Framework) Run(ctx context.Context, svc *Service, snap *Snapshot) (*Result, error) {
	state := NewCycleState(snap, f.strategy, svc.Consumer)
	members := snap.Members()
	// Per-member verdicts, indexed by Member.Index, kept in flat arrays
	// until the result is assembled in its final order.
	v := &verdicts{
		failed:   make([]int32, len(members)),
		statuses: make([]*Status, len(members)),
	}
	feasible := slices.Clone(members)
	reject := func(m *Member, fi int, st *Status) {
		v.failed[m.Index], v.statuses[m.Index] = int32(fi)+1, st
	}
	var batch []*Status

	for fi, fp := range f.filters {
		if len(feasible) == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pre := f.preFilters[fi]; pre != nil {
			st := pre.PreFilter(ctx, state, svc)
			switch st.Code() {
			case Success:
			case Unschedulable:
				for _, m := range feasible {
					reject(m, fi, st)
				}
				feasible = feasible[:0]
				continue
			default:
				return nil, fmt.Errorf("pre-filter %s: %w", f.filterNames[fi], st.AsError())
			}
		}
		w := 0
		if b := f.batch[fi]; b != nil {
			batch = slices.Grow(batch[:0], len(feasible))[:len(feasible)]
			clear(batch)
			b.FilterBatch(ctx, state, svc, feasible, batch)
			for j, m := range feasible {
				switch st := batch[j]; st.Code() {
				case Success:
					feasible[w] = m
					w++
				case Unschedulable:
					reject(m, fi, st)
				default:
					return nil, fmt.Errorf("filter %s on cluster %s: %w", f.filterNames[fi], m.Name, st.AsError())
				}
			}
		} else {
			for _, m := range feasible {
				switch st := fp.Filter(ctx, state, svc, m); st.Code() {
				case Success:
					feasible[w] = m
					w++
				case Unschedulable:
					reject(m, fi, st)
				default:
					return nil, fmt.Errorf("filter %s on cluster %s: %w", f.filterNames[fi], m.Name, st.AsError())
				}
			}
		}
		feasible = feasible[:w]
	}

	if len(feasible) > 0 && len(f.scorers) > 0 {
		if err := f.score(ctx, state, svc, feasible, v); err != nil {
			return nil, err
		}
	}

	return &Result{
		Profile:  f.name,
		Strategy: f.strategy,
		Filters:  f.filterNames,
		Scorers:  f.scorerInfo,
		Feasible: len(feasible),
		members:  members,
		order:    v.order(feasible, len(f.filters)),
		v:        v,
		nScorers: len(f.scorers),
	}, nil
}

// verdicts is the scratch record of one Run, indexed by Member.Index.
type verdicts struct {
	// failed is 1 + the index of the rejecting filter; 0 when feasible.
	failed   []int32
	statuses []*Status
	// totals and the flat score records, the latter indexed by position
	// in the feasible list; pos maps Member.Index to that position.
	totals []int64
	recs   []ScoreRecord
	pos    []int32
}

func (f *Framework) score(ctx context.Context, state *CycleState, svc *Service, feasible []*Member, v *verdicts) error {
	ns := len(f.scorers)
	v.recs = make([]ScoreRecord, len(feasible)*ns)
	v.totals = make([]int64, len(v.failed))
	v.pos = make([]int32, len(v.failed))
	for j, m := range feasible {
		v.pos[m.Index] = int32(j)
	}
	list := make(ClusterScoreList, len(feasible))
	for si, sp := range f.scorers {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := f.scorerInfo[si].Name
		if pre := f.preScores[si]; pre != nil {
			if st := pre.PreScore(ctx, state, svc, feasible); !st.IsSuccess() {
				return fmt.Errorf("pre-score %s: %w", name, st.AsError())
			}
		}
		for j, m := range feasible {
			s, st := sp.Score(ctx, state, svc, m)
			if !st.IsSuccess() {
				return fmt.Errorf("score %s on cluster %s: %w", name, m.Name, st.AsError())
			}
			list[j] = ClusterScore{Member: m, Score: s}
			v.recs[j*ns+si].Raw = s
		}
		if ext := f.extensions[si]; ext != nil {
			if st := ext.NormalizeScore(ctx, state, svc, list); !st.IsSuccess() {
				return fmt.Errorf("normalize %s: %w", name, st.AsError())
			}
		}
		w := f.weights[si]
		for j, m := range feasible {
			s := list[j].Score
			if s < MinScore || s > MaxScore {
				return fmt.Errorf("score %s on cluster %s: %d is outside %d..%d", name, m.Name, s, MinScore, MaxScore)
			}
			r := &v.recs[j*ns+si]
			r.Score, r.Weighted = s, s*w
			v.totals[m.Index] += s * w
		}
	}
	return nil
}

// order returns the member indexes in result order: feasible first, by
// total (highest first) and then name; then the infeasible ones, those
// that passed more filters first, then by name. feasible is in name order,
// and member indexes follow name order.
func (v *verdicts) order(feasible []*Member, nFilters int) []int32 {
	out := make([]int32, len(v.failed))
	for i, m := range feasible {
		out[i] = int32(m.Index)
	}
	if v.totals != nil {
		// Sort keys: the total, highest first, then the member index,
		// which follows name order, so ties go to the first name. Totals
		// are at most 100*100 per scorer, far below 2^31.
		keys := make([]uint64, len(feasible))
		for i, m := range feasible {
			keys[i] = uint64(math.MaxInt32-v.totals[m.Index])<<32 | uint64(m.Index)
		}
		slices.Sort(keys)
		for i, k := range keys {
			out[i] = int32(k & math.MaxUint32)
		}
	}
	if len(feasible) == len(out) {
		return out
	}
	// Counting sort of the rest by the filter that rejected them, the
	// furthest first; name order is kept within a filter.
	start := make([]int, nFilters+1)
	for _, ff := range v.failed {
		start[ff]++
	}
	pos := len(feasible)
	for fi := nFilters; fi >= 1; fi-- {
		n := start[fi]
		start[fi] = pos
		pos += n
	}
	for i, ff := range v.failed {
		if ff != 0 {
			out[start[ff]] = int32(i)
			start[ff]++
		}
	}
	return out
}
