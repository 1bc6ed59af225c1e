package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// newExplainCommand is `berthctl explain <namespace>/<name>`: why a
// ManagedService was placed where it is.
func newExplainCommand(kf *kubeFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain NAMESPACE/NAME",
		Short: "Explain where a ManagedService was placed and why: candidates, plugin scores, filter reasons, conditions",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("expected one argument <namespace>/<name> of a ManagedService, e.g. team/orders-db; got %d", len(args))
			}
			_, err := ParseServiceRef(args[0])
			return err
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return completeServices(cmd, kf, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := ParseServiceRef(args[0])
			if err != nil {
				return err
			}
			h, err := kf.connect(cmd.Flags().Changed("fleet"))
			if err != nil {
				return err
			}
			ms := &fleetv1alpha1.ManagedService{}
			if err := h.client.Get(cmd.Context(), key, ms); err != nil {
				if apierrors.IsNotFound(err) && !isMissingAPI(err) {
					return fmt.Errorf("managedservice %s/%s not found", key.Namespace, key.Name)
				}
				return h.apiError("getting ManagedService "+key.String(), err)
			}
			WriteExplain(cmd.OutOrStdout(), ms, time.Now())
			return nil
		},
	}
	kf.addFlags(cmd.Flags())
	return cmd
}

// isMissingAPI tells a 404 for a missing resource type (the CRD is not
// installed) from a 404 for a missing object.
func isMissingAPI(err error) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok {
		return false
	}
	d := status.Status().Details
	return d == nil || d.Name == ""
}

// ParseServiceRef parses <namespace>/<name> of a ManagedService.
func ParseServiceRef(arg string) (client.ObjectKey, error) {
	ns, name, ok := strings.Cut(arg, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return client.ObjectKey{}, fmt.Errorf("argument %q: expected <namespace>/<name> of a ManagedService, e.g. team/orders-db", arg)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return client.ObjectKey{}, fmt.Errorf("argument %q: namespace %q is not a DNS-1123 label: %s", arg, ns, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return client.ObjectKey{}, fmt.Errorf("argument %q: name %q is not a DNS-1123 label: %s", arg, name, strings.Join(errs, "; "))
	}
	return client.ObjectKey{Namespace: ns, Name: name}, nil
}

// WriteExplain prints the placement decision of a service, its candidates
// and its conditions.
func WriteExplain(out io.Writer, ms *fleetv1alpha1.ManagedService, now time.Time) {
	p := ms.Status.Placement
	tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	line := func(key, format string, args ...any) {
		_, _ = fmt.Fprintf(tw, "%s:\t%s\n", key, fmt.Sprintf(format, args...))
	}
	line("ManagedService", "%s/%s", ms.Namespace, ms.Name)
	line("Engine", "%s %s, %d replica(s)", ms.Spec.Engine, ms.Spec.Version, ms.Spec.Replicas)
	line("Consumer", "%s (namespaces %s)", ms.Spec.Consumer.Cluster, strings.Join(ms.Spec.Consumer.Namespaces, ", "))
	requested := "strategy " + string(strategyOrDefault(ms.Spec.Placement.Strategy))
	if ref := ms.Spec.Placement.PolicyRef; ref != nil {
		requested += ", policy " + ref.Name
	}
	if l := ms.Spec.Placement.MaxLatency; l != nil {
		requested += ", maxLatency " + l.Duration.String()
	}
	line("Requested", "%s", requested)
	if p.Cluster == "" {
		reason := ConditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced)
		line("Placement", "not placed (%s)", reason)
	} else {
		decided := ""
		if p.DecidedAt != nil {
			decided = ", decided " + age(*p.DecidedAt, now) + " ago"
		}
		policy := p.Policy
		if policy == "" {
			policy = "<built-in profile>"
		}
		line("Placement", "%s (strategy %s, policy %s, score %d%s)", p.Cluster, p.Strategy, policy, p.Score, decided)
	}
	if p.BetterCandidate != "" {
		line("Better candidate", "%s scores higher now; placement is sticky, annotate %s to move", p.BetterCandidate, fleetv1alpha1.AnnotationReplace)
	} else if p.Cluster != "" {
		line("Better candidate", "none")
	}
	if e := ms.Status.Endpoint; e != nil {
		line("Endpoint", "%s:%d (secret %s, in the consumer namespaces)", e.Host, e.Port, orNone(e.SecretName))
	} else {
		line("Endpoint", "<none>")
	}
	_ = tw.Flush()

	_, _ = fmt.Fprintln(out)
	if len(p.Candidates) == 0 {
		_, _ = fmt.Fprintln(out, "Candidates: none recorded")
	} else {
		_, _ = fmt.Fprintln(out, "Candidates (best first):")
		writeCandidates(out, p.Candidates)
	}

	_, _ = fmt.Fprintln(out)
	if len(ms.Status.Conditions) == 0 {
		_, _ = fmt.Fprintln(out, "Conditions: none yet")
		return
	}
	_, _ = fmt.Fprintln(out, "Conditions:")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
	for _, c := range sortedConditions(ms.Status.Conditions) {
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, age(c.LastTransitionTime, now), c.Message)
	}
	_ = tw.Flush()
}

// writeCandidates prints one row per plugin score of a feasible candidate
// and one row with the filter's reason for an infeasible one. The reason is
// the last cell, so it does not widen the table.
func writeCandidates(out io.Writer, cands []fleetv1alpha1.Candidate) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "  CLUSTER\tTOTAL\tPLUGIN\tSCORE\tWEIGHTED")
	for _, c := range cands {
		if !c.Feasible {
			_, _ = fmt.Fprintf(tw, "  %s\t-\tfiltered out by %s\n", c.Cluster, orNone(c.Reason))
			continue
		}
		if len(c.Scores) == 0 {
			_, _ = fmt.Fprintf(tw, "  %s\t%d\t(no score plugins)\n", c.Cluster, c.Score)
			continue
		}
		for i, s := range c.Scores {
			cluster, total := "", ""
			if i == 0 {
				cluster, total = c.Cluster, strconv.FormatInt(c.Score, 10)
			}
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\n", cluster, total, s.Plugin, s.Score, s.Weighted)
		}
	}
	_ = tw.Flush()
}

// conditionOrder lists a ManagedService's conditions in the order they are
// reached; other types follow by name.
var conditionOrder = []string{fleetv1alpha1.ConditionPlaced, fleetv1alpha1.ConditionPropagated, fleetv1alpha1.ConditionReady}

func sortedConditions(conds []metav1.Condition) []metav1.Condition {
	rank := func(t string) int {
		if i := slices.Index(conditionOrder, t); i >= 0 {
			return i
		}
		return len(conditionOrder)
	}
	out := slices.Clone(conds)
	slices.SortStableFunc(out, func(a, b metav1.Condition) int {
		if d := rank(a.Type) - rank(b.Type); d != 0 {
			return d
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}

func strategyOrDefault(s fleetv1alpha1.Strategy) fleetv1alpha1.Strategy {
	if s == "" {
		return fleetv1alpha1.StrategyWorkload
	}
	return s
}
