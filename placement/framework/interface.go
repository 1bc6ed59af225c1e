package framework

import (
	"context"
	"fmt"
)

// Code is the outcome of a plugin call.
type Code uint8

// Status codes.
const (
	// Success means the cluster fits (filters) or the score is valid.
	Success Code = iota
	// Unschedulable means the cluster does not fit; the reason says why.
	Unschedulable
	// Error means the plugin failed; the decision is aborted and retried.
	Error
)

// String returns the code's name.
func (c Code) String() string {
	switch c {
	case Success:
		return "Success"
	case Unschedulable:
		return "Unschedulable"
	case Error:
		return "Error"
	default:
		return fmt.Sprintf("Code(%d)", uint8(c))
	}
}

// Status is the result of a plugin call. A nil *Status means Success.
// Statuses are immutable, so a plugin may return the same *Status for many
// clusters.
type Status struct {
	code   Code
	reason string
	err    error
}

// NewStatus returns a status with the code and a human-readable reason.
func NewStatus(code Code, reason string) *Status {
	return &Status{code: code, reason: reason}
}

// Unschedulablef returns an Unschedulable status with a formatted reason.
func Unschedulablef(format string, args ...any) *Status {
	return &Status{code: Unschedulable, reason: fmt.Sprintf(format, args...)}
}

// AsStatus wraps err in an Error status; a nil err gives nil (Success).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reason: err.Error(), err: err}
}

// Code returns the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess is true for nil and Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsUnschedulable is true when the cluster does not fit.
func (s *Status) IsUnschedulable() bool { return s.Code() == Unschedulable }

// Reason is the human-readable reason; empty for Success.
func (s *Status) Reason() string {
	if s == nil {
		return ""
	}
	return s.reason
}

// AsError returns nil for Success, the wrapped error for Error, and an error
// carrying the reason otherwise.
func (s *Status) AsError() error {
	switch {
	case s.IsSuccess():
		return nil
	case s.err != nil:
		return s.err
	default:
		return fmt.Errorf("%s: %s", s.code, s.reason)
	}
}

// String renders the status for logs.
func (s *Status) String() string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.code.String() + ": " + s.reason
}

// Plugin is the root interface of every placement plugin.
type Plugin interface {
	// Name is the plugin's name in the registry.
	Name() string
}

// PreFilterPlugin runs once per decision, before any filter. A non-success
// status rejects every cluster with that status's reason (Unschedulable), or
// aborts the decision (Error).
type PreFilterPlugin interface {
	Plugin
	// PreFilter checks the service alone.
	PreFilter(ctx context.Context, state *CycleState, svc *Service) *Status
}

// FilterPlugin decides whether a service fits one member cluster.
type FilterPlugin interface {
	Plugin
	// Filter returns nil or Success when the cluster fits, Unschedulable
	// with a reason when it does not, and Error when the plugin failed.
	Filter(ctx context.Context, state *CycleState, svc *Service, member *Member) *Status
}

// BatchFilterPlugin is a FilterPlugin that can judge many clusters in one
// call. When a filter implements it, the framework calls FilterBatch once
// with every cluster still feasible instead of calling Filter per cluster.
type BatchFilterPlugin interface {
	FilterPlugin
	// FilterBatch writes the status of members[i] into statuses[i]; the
	// slices have the same length and statuses starts all nil.
	FilterBatch(ctx context.Context, state *CycleState, svc *Service, members []*Member, statuses []*Status)
}

// PreScorePlugin runs once per decision with the feasible clusters, before
// any Score call. A non-success status aborts the decision.
type PreScorePlugin interface {
	Plugin
	// PreScore prepares state for Score.
	PreScore(ctx context.Context, state *CycleState, svc *Service, feasible []*Member) *Status
}

// ScorePlugin rates a feasible member cluster.
type ScorePlugin interface {
	Plugin
	// Score returns the cluster's score: 0..100, or any value the plugin's
	// NormalizeScore maps into 0..100.
	Score(ctx context.Context, state *CycleState, svc *Service, member *Member) (int64, *Status)
	// ScoreExtensions returns the normaliser, or nil.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions is the optional normalisation step of a ScorePlugin.
type ScoreExtensions interface {
	// NormalizeScore rewrites scores in place so that each is in 0..100.
	NormalizeScore(ctx context.Context, state *CycleState, svc *Service, scores ClusterScoreList) *Status
}

// ClusterScore is one cluster's score from one plugin.
type ClusterScore struct {
	// Member is the cluster.
	Member *Member
	// Score is raw before NormalizeScore and normalised after it.
	Score int64
}

// ClusterScoreList is the scores of one plugin over the feasible clusters,
// in name order.
type ClusterScoreList []ClusterScore

// Score bounds.
const (
	// MinScore is the lowest normalised score.
	MinScore int64 = 0
	// MaxScore is the highest normalised score.
	MaxScore int64 = 100
	// MaxWeight is the highest weight a score plugin may have.
	MaxWeight int32 = 100
)
