package placement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

// ReasonClusterGone is the reason of the Event recorded when a service's
// cluster no longer exists. The service is not moved by itself (its Placed
// condition stays as it was): the fleet.berth.io/replace annotation places
// it again.
const ReasonClusterGone = "ClusterGone"

// Placer makes placement decisions with the hub's profiles and compiles
// PlacementPolicies against them. It is safe for concurrent use.
type Placer struct {
	registry framework.Registry
	config   *Config
	profiles map[fleetv1alpha1.Strategy]*framework.Framework
	configs  map[fleetv1alpha1.Strategy]framework.ProfileConfig
}

// NewPlacer validates cfg (nil means DefaultConfig) against reg (nil means
// NewRegistry()) and builds the built-in profiles.
func NewPlacer(reg framework.Registry, cfg *Config) (*Placer, error) {
	if reg == nil {
		var err error
		if reg, err = NewRegistry(); err != nil {
			return nil, err
		}
	}
	if cfg == nil {
		cfg = DefaultConfig()
	} else {
		c := *cfg
		c.Profiles = slices.Clone(cfg.Profiles)
		c.Default()
		cfg = &c
	}
	if err := cfg.Validate(reg); err != nil {
		return nil, err
	}
	p := &Placer{
		registry: reg,
		config:   cfg,
		profiles: map[fleetv1alpha1.Strategy]*framework.Framework{},
		configs:  map[fleetv1alpha1.Strategy]framework.ProfileConfig{},
	}
	for i := range cfg.Profiles {
		pc := cfg.Profiles[i].profileConfig()
		f, err := newProfile(reg, pc)
		if err != nil {
			return nil, framework.PrefixField("profiles["+strconv.Itoa(i)+"]", err)
		}
		p.profiles[cfg.Profiles[i].Strategy] = f
		p.configs[cfg.Profiles[i].Strategy] = pc
	}
	return p, nil
}

// Registry is the placer's plugin registry.
func (p *Placer) Registry() framework.Registry { return p.registry }

// Config is the validated, defaulted config.
func (p *Placer) Config() *Config { return p.config }

// Profile returns the built-in profile of a strategy, or nil.
func (p *Placer) Profile(s fleetv1alpha1.Strategy) *framework.Framework { return p.profiles[s] }

// Policy is a compiled PlacementPolicy.
type Policy struct {
	// Name of the PlacementPolicy.
	Name string
	// Strategy is the base strategy.
	Strategy fleetv1alpha1.Strategy
	// Fallback strategies, tried in order when the base finds no cluster.
	Fallback []fleetv1alpha1.Strategy
	// CandidatesToRecord is how many candidates status keeps; 0 means the
	// hub's default.
	CandidatesToRecord int
	// Generation of the PlacementPolicy compiled.
	Generation int64

	frameworks map[fleetv1alpha1.Strategy]*framework.Framework
}

// CompilePolicy builds a policy's profiles. The base strategy's profile is
// the hub's, with the policy's filters and scores replacing the hub's lists
// when set; fallback strategies run the hub's profiles. Errors name the
// field, e.g. "spec.filters[1].name: unknown plugin \"Foo\"".
func (p *Placer) CompilePolicy(pp *fleetv1alpha1.PlacementPolicy) (*Policy, error) {
	spec := &pp.Spec
	base := spec.Strategy
	if base == "" {
		base = fleetv1alpha1.StrategyWorkload
	}
	var errs []error
	if !slices.Contains(Strategies, base) {
		return nil, framework.FieldErrorf("spec.strategy", "must be one of %v, got %q", Strategies, base)
	}
	for i, s := range spec.Fallback {
		path := "spec.fallback[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(Strategies, s):
			errs = append(errs, framework.FieldErrorf(path, "must be one of %v, got %q", Strategies, s))
		case s == base:
			errs = append(errs, framework.FieldErrorf(path, "must not repeat the base strategy %s", base))
		case slices.Index(spec.Fallback, s) < i:
			errs = append(errs, framework.FieldErrorf(path, "duplicate strategy %s", s))
		}
	}
	pc := p.configs[base]
	pc.Name = pp.Name
	if spec.Filters != nil {
		pc.Filters = make([]framework.PluginRef, len(spec.Filters))
		for i, f := range spec.Filters {
			pc.Filters[i] = framework.PluginRef{Name: f.Name, Args: rawArgs(f.Args)}
		}
	}
	if spec.Scores != nil {
		pc.Scores = make([]framework.WeightedPluginRef, len(spec.Scores))
		for i, s := range spec.Scores {
			w := s.Weight
			if w == 0 {
				w = 1 // the CRD defaults it; objects built in Go may not have it
			}
			pc.Scores[i] = framework.WeightedPluginRef{Name: s.Name, Weight: w, Args: rawArgs(s.Args)}
		}
	}
	f, err := newProfile(p.registry, pc)
	if err != nil {
		errs = append(errs, framework.PrefixField("spec", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	pol := &Policy{
		Name:               pp.Name,
		Strategy:           base,
		Fallback:           slices.Clone(spec.Fallback),
		CandidatesToRecord: int(spec.CandidatesToRecord),
		Generation:         pp.Generation,
		frameworks:         map[fleetv1alpha1.Strategy]*framework.Framework{base: f},
	}
	for _, s := range spec.Fallback {
		pol.frameworks[s] = p.profiles[s]
	}
	return pol, nil
}

func rawArgs(ext *runtime.RawExtension) []byte {
	if ext == nil || len(ext.Raw) == 0 || string(ext.Raw) == "null" {
		return nil
	}
	return ext.Raw
}

// Request is one placement request.
type Request struct {
	// Service to place. Service.Current is the cluster it is placed on.
	Service *framework.Service
	// Policy refines the strategy; nil runs the built-in profile of the
	// service's strategy without fallback.
	Policy *Policy
	// Snapshot of the fleet.
	Snapshot *framework.Snapshot
	// Replace asks for a new decision for a placed service (the
	// fleet.berth.io/replace annotation).
	Replace bool
	// PlacedReason is the reason of the service's current Placed
	// condition, kept for placed services.
	PlacedReason string
	// Recorded is the decision recorded outside status, in the service's
	// provider ServiceWork (package controllers/internal/binding). It is used
	// only when status.placement.cluster is empty: the service is then
	// placed there (sticky) instead of being placed afresh, so losing status
	// never moves a service.
	Recorded *fleetv1alpha1.PlacementDecision
}

// Outcome is what Decide did.
type Outcome string

// Outcomes.
const (
	// OutcomePlaced means a new cluster was chosen (first placement or a
	// requested re-placement).
	OutcomePlaced Outcome = "Placed"
	// OutcomeKept means a placed service stays where it is (sticky).
	OutcomeKept Outcome = "Kept"
	// OutcomeUnschedulable means no strategy of the chain found a cluster.
	OutcomeUnschedulable Outcome = "Unschedulable"
	// OutcomeReplaceFailed means a re-placement found no cluster; the
	// service stays where it is.
	OutcomeReplaceFailed Outcome = "ReplaceFailed"
	// OutcomeClusterGone means the service's cluster no longer exists; it
	// stays placed there until a re-placement is requested.
	OutcomeClusterGone Outcome = "ClusterGone"
)

// Attempt is one strategy of the chain run by Decide.
type Attempt struct {
	// Strategy run.
	Strategy fleetv1alpha1.Strategy
	// Result of the run.
	Result *framework.Result
	// Duration of the run.
	Duration time.Duration
}

// Decision is what to write into status and tell the user.
type Decision struct {
	// Outcome of the request.
	Outcome Outcome
	// Placement is the new status.placement.
	Placement fleetv1alpha1.PlacementDecision
	// Placed is the Placed condition's status.
	Placed bool
	// Reason of the Placed condition.
	Reason string
	// Message of the Placed condition.
	Message string
	// Previous is the cluster the service was on before.
	Previous string
	// Attempts are the strategies run, in order.
	Attempts []Attempt
	// Restored is true when the previous decision came from
	// Request.Recorded because status.placement was empty.
	Restored bool
}

// Chain is the strategies a request tries, base first.
func (p *Placer) Chain(req *Request) []fleetv1alpha1.Strategy {
	if req.Policy != nil {
		return append([]fleetv1alpha1.Strategy{req.Policy.Strategy}, req.Policy.Fallback...)
	}
	return []fleetv1alpha1.Strategy{req.Service.Strategy}
}

func (p *Placer) frameworkFor(req *Request, s fleetv1alpha1.Strategy) *framework.Framework {
	if req.Policy != nil {
		if f := req.Policy.frameworks[s]; f != nil {
			return f
		}
	}
	return p.profiles[s]
}

func (p *Placer) top(req *Request) int {
	if req.Policy != nil && req.Policy.CandidatesToRecord > 0 {
		return req.Policy.CandidatesToRecord
	}
	return int(p.config.CandidatesToRecord)
}

// Decide places a service, or re-evaluates a placed one. Placement is
// sticky: a placed service keeps its cluster while the cluster exists, even
// when it no longer passes the filters; Placement.BetterCandidate names a
// feasible cluster that scores higher. Only Replace produces a new decision
// for a placed service. When the base strategy finds no cluster, the
// policy's fallback strategies are tried in order; without them the service
// stays unplaced. now stamps DecidedAt.
func (p *Placer) Decide(ctx context.Context, req Request, now time.Time) (*Decision, error) {
	svc := req.Service
	prev := svc.Object.Status.Placement
	d := &Decision{}
	if prev.Cluster == "" && req.Recorded != nil && req.Recorded.Cluster != "" {
		// Status was lost: the binding still says where the service runs.
		prev = *req.Recorded.DeepCopy()
		d.Restored = true
	}
	d.Previous = prev.Cluster
	chain := p.Chain(&req)
	var policyName string
	if req.Policy != nil {
		policyName = req.Policy.Name
	}
	if d.Restored && req.PlacedReason == "" && prev.Strategy != "" && prev.Strategy != chain[0] {
		// Only a fallback places a service outside its base strategy.
		req.PlacedReason = fleetv1alpha1.ReasonFallback
	}

	if prev.Cluster != "" && !req.Replace && req.Snapshot.Get(prev.Cluster) == nil {
		// Draining a deleted member is not placement's business, and a
		// stateful service never moves by itself: report and wait.
		d.Outcome = OutcomeClusterGone
		d.Placement = *prev.DeepCopy()
		d.Placement.BetterCandidate = ""
		d.Placed = true
		d.Reason = keptReason(req.PlacedReason)
		d.Message = fmt.Sprintf("Placed on %s, which no longer exists; set the %s annotation to place the service again",
			prev.Cluster, fleetv1alpha1.AnnotationReplace)
		d.Message += restoredNote(d)
		return d, nil
	}

	run := *svc
	if d.Restored {
		run.Current = prev.Cluster
	}
	run.Replacing = req.Replace
	first := -1
	for i, s := range chain {
		f := p.frameworkFor(&req, s)
		if f == nil {
			return nil, fmt.Errorf("no profile for strategy %q", s)
		}
		start := time.Now()
		res, err := f.Run(ctx, &run, req.Snapshot)
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", s, err)
		}
		d.Attempts = append(d.Attempts, Attempt{Strategy: s, Result: res, Duration: time.Since(start)})
		if res.Feasible > 0 {
			first = i
			break
		}
	}
	top := p.top(&req)

	switch {
	case prev.Cluster != "" && !req.Replace:
		p.keep(d, &req, prev, chain, first, top)
		d.Message += restoredNote(d)
	case first >= 0:
		res := d.Attempts[first].Result
		best := res.Best()
		d.Outcome = OutcomePlaced
		d.Placement = res.Decision(top)
		d.Placement.Policy = policyName
		t := metav1.NewTime(now)
		d.Placement.DecidedAt = &t
		d.Placed = true
		if first == 0 {
			d.Reason = fleetv1alpha1.ReasonScheduled
			d.Message = fmt.Sprintf("Placed on %s by strategy %s with score %d (%s)", best.Cluster, res.Strategy, best.Total, res.Summary())
		} else {
			d.Reason = fleetv1alpha1.ReasonFallback
			d.Message = fmt.Sprintf("Placed on %s by fallback strategy %s with score %d; %s", best.Cluster, res.Strategy, best.Total, failures(d.Attempts[:first]))
		}
	case prev.Cluster != "":
		d.Outcome = OutcomeReplaceFailed
		d.Placement = *prev.DeepCopy()
		d.Placement.BetterCandidate = ""
		d.Placement.Candidates = d.Attempts[0].Result.APICandidates(top)
		d.Placed = true
		d.Reason = keptReason(req.PlacedReason)
		d.Message = fmt.Sprintf("Re-placement found no cluster, staying on %s; %s", prev.Cluster, failures(d.Attempts))
	default:
		d.Outcome = OutcomeUnschedulable
		d.Placement = fleetv1alpha1.PlacementDecision{
			Strategy:   chain[0],
			Policy:     policyName,
			Candidates: d.Attempts[0].Result.APICandidates(top),
		}
		d.Reason = fleetv1alpha1.ReasonUnschedulable
		d.Message = failures(d.Attempts)
		if len(chain) == 1 {
			d.Message += "; no fallback strategy is allowed"
		}
	}
	return d, nil
}

// keep re-evaluates a placed service without moving it.
func (p *Placer) keep(d *Decision, req *Request, prev fleetv1alpha1.PlacementDecision, chain []fleetv1alpha1.Strategy, first, top int) {
	d.Outcome = OutcomeKept
	d.Placement = *prev.DeepCopy()
	d.Placement.BetterCandidate = ""
	d.Placed = true
	d.Reason = keptReason(req.PlacedReason)
	shown := d.Attempts[0].Result
	if first >= 0 {
		shown = d.Attempts[first].Result
	}
	d.Placement.Candidates = shown.APICandidates(top)

	var notes []string
	if cur := shown.Find(prev.Cluster); cur != nil && !cur.Feasible() {
		notes = append(notes, fmt.Sprintf("%s no longer passes the filters (%s)", prev.Cluster, shown.Reason(cur)))
	}
	if first >= 0 {
		best := shown.Best()
		current := slices.Index(chain, prev.Strategy)
		cur := shown.Find(prev.Cluster)
		better := false
		switch {
		case best.Cluster == prev.Cluster:
		case current < 0:
			// The strategy that placed it is no longer in the chain (the
			// policy changed): compare within the strategy that fits.
			better = cur == nil || !cur.Feasible() || best.Total > cur.Total
		case first < current:
			better = true
		case first == current:
			better = cur == nil || !cur.Feasible() || best.Total > cur.Total
		}
		if better {
			d.Placement.BetterCandidate = best.Cluster
			notes = append(notes, fmt.Sprintf("%s (strategy %s, score %d) is a better candidate; set the %s annotation to move",
				best.Cluster, shown.Strategy, best.Total, fleetv1alpha1.AnnotationReplace))
		}
	}
	d.Message = fmt.Sprintf("Placed on %s by strategy %s", prev.Cluster, prev.Strategy)
	if d.Reason == fleetv1alpha1.ReasonFallback {
		d.Message = fmt.Sprintf("Placed on %s by fallback strategy %s; the base strategy %s found no cluster", prev.Cluster, prev.Strategy, chain[0])
	}
	if len(notes) > 0 {
		d.Message += "; " + strings.Join(notes, "; ")
	}
}

// restoredNote tells, in the Placed message, that the decision was restored
// from the binding.
func restoredNote(d *Decision) string {
	if !d.Restored {
		return ""
	}
	return fmt.Sprintf("; restored from the provider ServiceWork on %s after status.placement was lost", d.Previous)
}

func keptReason(r string) string {
	if r == fleetv1alpha1.ReasonFallback {
		return r
	}
	return fleetv1alpha1.ReasonScheduled
}

// failures describes the attempts that found no cluster.
func failures(attempts []Attempt) string {
	parts := make([]string, 0, len(attempts))
	for _, a := range attempts {
		if a.Result.Feasible > 0 {
			continue
		}
		parts = append(parts, "strategy "+string(a.Strategy)+": "+a.Result.Summary())
	}
	return strings.Join(parts, "; ")
}
