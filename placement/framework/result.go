package framework

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// ScoreRecord is one scorer's verdict on one candidate.
type ScoreRecord struct {
	// Raw is what Score returned.
	Raw int64
	// Score is the normalised score, 0..100 (Raw when the plugin has no
	// NormalizeScore).
	Score int64
	// Weighted is Score times the plugin's weight.
	Weighted int64
}

// Candidate is one member cluster as the decision saw it.
type Candidate struct {
	// Cluster is the member's name.
	Cluster string
	// Member is the parsed member.
	Member *Member
	// FailedFilter is the index in Result.Filters of the filter that
	// rejected the cluster, or -1 when it is feasible.
	FailedFilter int
	// Status is the rejecting filter's status; nil when feasible.
	Status *Status
	// Scores are indexed like Result.Scorers; nil when not feasible.
	Scores []ScoreRecord
	// Total is the sum of the weighted scores.
	Total int64
}

// Feasible is true when every filter passed.
func (c *Candidate) Feasible() bool { return c.FailedFilter < 0 }

// Result is a recorded decision of one profile. It keeps the verdicts in
// compact form and builds Candidate values on demand, so that a decision
// over a large fleet allocates little.
type Result struct {
	// Profile is the profile's name.
	Profile string
	// Strategy is the profile's strategy.
	Strategy fleetv1alpha1.Strategy
	// Filters are the filter plugins in the order they ran.
	Filters []string
	// Scorers are the score plugins and their weights.
	Scorers []ScorerInfo
	// Feasible is the number of feasible candidates; they come first.
	Feasible int

	members  []*Member
	order    []int32
	v        *verdicts
	nScorers int
}

// Len is the number of candidates, one per member.
func (r *Result) Len() int { return len(r.order) }

// Candidate returns the i-th candidate in result order: the feasible ones
// first, best first (total descending, then name), then the rest, those that
// passed more filters first, then by name.
func (r *Result) Candidate(i int) Candidate { return r.at(int(r.order[i])) }

// Candidates returns every candidate in result order.
func (r *Result) Candidates() []Candidate {
	out := make([]Candidate, len(r.order))
	for i := range r.order {
		out[i] = r.Candidate(i)
	}
	return out
}

// at builds the candidate of the member with index idx.
func (r *Result) at(idx int) Candidate {
	m := r.members[idx]
	c := Candidate{Cluster: m.Name, Member: m, FailedFilter: int(r.v.failed[idx]) - 1, Status: r.v.statuses[idx]}
	if c.FailedFilter < 0 && r.v.recs != nil {
		p := int(r.v.pos[idx]) * r.nScorers
		c.Scores = r.v.recs[p : p+r.nScorers : p+r.nScorers]
		c.Total = r.v.totals[idx]
	}
	return c
}

// Best returns the chosen candidate, or nil when none is feasible.
func (r *Result) Best() *Candidate {
	if r.Feasible == 0 {
		return nil
	}
	c := r.Candidate(0)
	return &c
}

// Find returns the candidate for a cluster, or nil.
func (r *Result) Find(cluster string) *Candidate {
	i, ok := slices.BinarySearchFunc(r.members, cluster, func(m *Member, name string) int { return strings.Compare(m.Name, name) })
	if !ok {
		return nil
	}
	c := r.at(i)
	return &c
}

// Verdict is what one filter said about one candidate.
type Verdict string

// Verdicts.
const (
	// Passed means the filter let the cluster through.
	Passed Verdict = "Passed"
	// Rejected means the filter found the cluster does not fit.
	Rejected Verdict = "Rejected"
	// Skipped means an earlier filter had already rejected the cluster.
	Skipped Verdict = "Skipped"
)

// FilterVerdict is one filter's verdict on one candidate.
type FilterVerdict struct {
	// Plugin is the filter's name.
	Plugin string
	// Verdict of the filter.
	Verdict Verdict
	// Reason is set when Rejected.
	Reason string
}

// FilterVerdicts lists every filter's verdict on c, in filter order.
func (r *Result) FilterVerdicts(c *Candidate) []FilterVerdict {
	out := make([]FilterVerdict, len(r.Filters))
	for i, name := range r.Filters {
		out[i] = FilterVerdict{Plugin: name, Verdict: Passed}
		switch {
		case c.FailedFilter < 0 || i < c.FailedFilter:
		case i == c.FailedFilter:
			out[i].Verdict, out[i].Reason = Rejected, c.Status.Reason()
		default:
			out[i].Verdict = Skipped
		}
	}
	return out
}

// Reason is "<filter>: <reason>" for a rejected candidate, "" otherwise.
func (r *Result) Reason(c *Candidate) string {
	if c.FailedFilter < 0 {
		return ""
	}
	return r.Filters[c.FailedFilter] + ": " + c.Status.Reason()
}

// Decision converts the result into the API's PlacementDecision with at
// most top candidates (feasible ones first, best first). Cluster and Score
// are the best candidate's; Policy and DecidedAt are left to the caller.
func (r *Result) Decision(top int) fleetv1alpha1.PlacementDecision {
	d := fleetv1alpha1.PlacementDecision{Strategy: r.Strategy, Candidates: r.APICandidates(top)}
	if b := r.Best(); b != nil {
		d.Cluster, d.Score = b.Cluster, b.Total
	}
	return d
}

// APICandidates returns the first top candidates in API form.
func (r *Result) APICandidates(top int) []fleetv1alpha1.Candidate {
	top = min(max(top, 0), r.Len())
	if top == 0 {
		return nil
	}
	out := make([]fleetv1alpha1.Candidate, top)
	for i := range top {
		cand := r.Candidate(i)
		c := &cand
		out[i] = fleetv1alpha1.Candidate{Cluster: c.Cluster, Feasible: c.Feasible(), Reason: r.Reason(c)}
		if c.Feasible() {
			out[i].Score = c.Total
			out[i].Scores = make([]fleetv1alpha1.PluginScore, len(c.Scores))
			for si, s := range c.Scores {
				out[i].Scores[si] = fleetv1alpha1.PluginScore{Plugin: r.Scorers[si].Name, Score: s.Score, Weighted: s.Weighted}
			}
		}
	}
	return out
}

// Summary explains in one line why no cluster fits, grouping the rejected
// clusters by filter, the filter that got furthest first, with the first
// cluster's reason, e.g. "0/12 clusters fit: CapacityFit rejected 1 (c1:
// pool database: needs 4 cpu, 2.5 free); StrategyRole rejected 11 (...)".
// For a result with feasible clusters it says how many fit.
func (r *Result) Summary() string {
	n := r.Len()
	if n == 0 {
		return "no member clusters"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d clusters fit", r.Feasible, n)
	if r.Feasible == n {
		return b.String()
	}
	b.WriteString(": ")
	// Candidates after the feasible ones are grouped by filter already.
	first := true
	for i := r.Feasible; i < n; {
		idx := r.order[i]
		ff, st := r.v.failed[idx], r.v.statuses[idx]
		j := i + 1
		others := 0
		for j < n && r.v.failed[r.order[j]] == ff {
			if o := r.v.statuses[r.order[j]]; o != st && o.Reason() != st.Reason() {
				others++
			}
			j++
		}
		if !first {
			b.WriteString("; ")
		}
		first = false
		b.WriteString(r.Filters[ff-1])
		b.WriteString(" rejected ")
		b.WriteString(strconv.Itoa(j - i))
		b.WriteString(" (")
		b.WriteString(r.members[idx].Name)
		b.WriteString(": ")
		b.WriteString(st.Reason())
		if others > 0 {
			fmt.Fprintf(&b, "; %d with other reasons", others)
		}
		b.WriteString(")")
		i = j
	}
	return b.String()
}

// RejectingPlugins returns the filters that rejected at least one cluster,
// in filter order.
func (r *Result) RejectingPlugins() []string {
	seen := make([]bool, len(r.Filters)+1)
	for _, ff := range r.v.failed {
		seen[ff] = true
	}
	var out []string
	for i, name := range r.Filters {
		if seen[i+1] {
			out = append(out, name)
		}
	}
	return out
}
