package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// getOptions are the flags of `berthctl get`.
type getOptions struct {
	kube          *kubeFlags
	output        string
	allNamespaces bool
}

// newGetCommand is `berthctl get members|services`: the hub's
// MemberClusters and ManagedServices as tables, or as json, yaml, names or
// jsonpath.
func newGetCommand(kf *kubeFlags) *cobra.Command {
	opts := &getOptions{kube: kf}
	cmd := GroupCommand("get", "List the hub's member clusters or managed services")
	kf.addFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVarP(&opts.output, "output", "o", "", "Output format: wide (more columns), json, yaml, name or jsonpath=<template>; empty prints a table")

	members := &cobra.Command{
		Use:     "members [NAME...]",
		Aliases: []string{"member", "memberclusters", "membercluster", "mc"},
		Short:   "List MemberClusters: role, availability, node pools, agent version (wide: pools, taints, latency to peers)",
		Example: `  berthctl get members
  berthctl get members workload-1 -o yaml
  berthctl get members -o jsonpath='{.items[*].metadata.name}'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return getMembers(cmd, opts, args)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return completeMembers(cmd, kf, args)
		},
	}
	services := &cobra.Command{
		Use:     "services [NAME...]",
		Aliases: []string{"service", "managedservices", "managedservice", "ms"},
		Short:   "List ManagedServices: engine, strategy, cluster, readiness, endpoint (wide: policy, reasons, secret)",
		Long: `List ManagedServices. Without --namespace or --all-namespaces it lists the namespace
of the kubeconfig context when that sets one, else all namespaces.`,
		Example: `  berthctl get services -A
  berthctl get services -n team orders-db -o json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return getServices(cmd, opts, args)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return completeServices(cmd, kf, args)
		},
	}
	services.Flags().BoolVarP(&opts.allNamespaces, "all-namespaces", "A", false, "List the services of every namespace")
	cmd.AddCommand(members, services)
	return cmd
}

func getMembers(cmd *cobra.Command, opts *getOptions, names []string) error {
	format, err := parseOutput(opts.output)
	if err != nil {
		return err
	}
	h, err := opts.kube.connect(cmd.Flags().Changed("fleet"))
	if err != nil {
		return err
	}
	list := &fleetv1alpha1.MemberClusterList{}
	if err := h.client.List(cmd.Context(), list); err != nil {
		return h.apiError("listing MemberClusters", err)
	}
	items, err := SelectByName(list.Items, names, func(m *fleetv1alpha1.MemberCluster) string { return m.Name },
		func(n string) string { return "membercluster " + n })
	if err != nil {
		return err
	}
	if !format.table() {
		objs := make([]client.Object, 0, len(items))
		for _, m := range items {
			objs = append(objs, m)
		}
		return printObjects(cmd.OutOrStdout(), format, h.client.Scheme(), objs, len(names) == 1)
	}
	if len(items) == 0 {
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "No MemberClusters on %s.\n", h.host)
		return nil
	}
	WriteMembers(cmd.OutOrStdout(), items, format.kind == outputWide, time.Now())
	return nil
}

func getServices(cmd *cobra.Command, opts *getOptions, names []string) error {
	format, err := parseOutput(opts.output)
	if err != nil {
		return err
	}
	if opts.allNamespaces && opts.kube.overrides.Context.Namespace != "" {
		return errors.New("--namespace and --all-namespaces: give at most one of them")
	}
	if opts.allNamespaces && len(names) > 0 {
		return errors.New("--all-namespaces: cannot be used with service names; pick the namespace with --namespace")
	}
	h, err := opts.kube.connect(cmd.Flags().Changed("fleet"))
	if err != nil {
		return err
	}
	namespace := ""
	if !opts.allNamespaces {
		namespace = h.namespace
	}
	if namespace == "" && len(names) > 0 {
		return errors.New("--namespace: required with service names (the kubeconfig context sets none)")
	}
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := h.client.List(cmd.Context(), list, client.InNamespace(namespace)); err != nil {
		return h.apiError("listing ManagedServices", err)
	}
	items, err := SelectByName(list.Items, names, func(m *fleetv1alpha1.ManagedService) string { return m.Name },
		func(n string) string { return "managedservice " + namespace + "/" + n })
	if err != nil {
		return err
	}
	if len(names) == 0 {
		slices.SortStableFunc(items, func(a, b *fleetv1alpha1.ManagedService) int { return strings.Compare(a.Namespace, b.Namespace) })
	}
	if !format.table() {
		objs := make([]client.Object, 0, len(items))
		for _, ms := range items {
			objs = append(objs, ms)
		}
		return printObjects(cmd.OutOrStdout(), format, h.client.Scheme(), objs, len(names) == 1)
	}
	if len(items) == 0 {
		where := "any namespace"
		if namespace != "" {
			where = "namespace " + namespace
		}
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "No ManagedServices in %s on %s.\n", where, h.host)
		return nil
	}
	WriteServices(cmd.OutOrStdout(), items, format.kind == outputWide, time.Now())
	return nil
}

// SelectByName keeps the items with the given names, in the order given,
// or all items sorted by name when no name is given. Unknown names are an
// error "<label(name)>, ... not found".
func SelectByName[T any](items []T, names []string, nameOf func(*T) string, label func(string) string) ([]*T, error) {
	byName := make(map[string]*T, len(items))
	all := make([]*T, 0, len(items))
	for i := range items {
		byName[nameOf(&items[i])] = &items[i]
		all = append(all, &items[i])
	}
	if len(names) == 0 {
		slices.SortStableFunc(all, func(a, b *T) int { return strings.Compare(nameOf(a), nameOf(b)) })
		return all, nil
	}
	out := make([]*T, 0, len(names))
	var missing []string
	for _, n := range names {
		if it, ok := byName[n]; ok {
			out = append(out, it)
		} else {
			missing = append(missing, label(n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s not found", strings.Join(missing, ", "))
	}
	return out, nil
}

// WriteMembers prints the MemberClusters table.
func WriteMembers(out io.Writer, items []*fleetv1alpha1.MemberCluster, wide bool, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	header := "NAME\tROLE\tAVAILABLE\tPOOLS\tAGENT\tAGE"
	if wide {
		header += "\tTAINTS\tNODE POOLS\tLATENCY P50/P99"
	}
	_, _ = fmt.Fprintln(tw, header)
	for _, m := range items {
		row := []string{
			m.Name, string(m.Spec.Role), conditionStatus(m.Status.Conditions, fleetv1alpha1.ConditionAvailable),
			strconv.Itoa(int(m.Status.PoolCount)), orNone(m.Status.AgentVersion), age(m.CreationTimestamp, now),
		}
		if wide {
			row = append(row, memberTaints(m.Spec.Taints), nodePoolSummary(m.Status.NodePools), latencySummary(m.Status.Latencies))
		}
		_, _ = fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// WriteServices prints the ManagedServices table.
func WriteServices(out io.Writer, items []*fleetv1alpha1.ManagedService, wide bool, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	header := "NAMESPACE\tNAME\tENGINE\tSTRATEGY\tCLUSTER\tREADY\tENDPOINT"
	if wide {
		header = "NAMESPACE\tNAME\tENGINE\tVERSION\tSTRATEGY\tPOLICY\tCLUSTER\tREADY\tREPLICAS\tENDPOINT\tSECRET\tPLACED\tPROPAGATED\tAGE"
	}
	_, _ = fmt.Fprintln(tw, header)
	for _, ms := range items {
		ep, secret := "<none>", "<none>"
		if e := ms.Status.Endpoint; e != nil {
			ep = fmt.Sprintf("%s:%d", e.Host, e.Port)
			secret = orNone(e.SecretName)
		}
		ready := conditionStatus(ms.Status.Conditions, fleetv1alpha1.ConditionReady)
		cluster := orNone(ms.Status.Placement.Cluster)
		var row []string
		if wide {
			row = []string{
				ms.Namespace, ms.Name, string(ms.Spec.Engine), ms.Spec.Version, serviceStrategy(ms), servicePolicy(ms), cluster, ready,
				fmt.Sprintf("%d/%d", ms.Status.ReadyReplicas, ms.Spec.Replicas), ep, secret,
				ConditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced),
				ConditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPropagated),
				age(ms.CreationTimestamp, now),
			}
		} else {
			row = []string{ms.Namespace, ms.Name, string(ms.Spec.Engine), serviceStrategy(ms), cluster, ready, ep}
		}
		_, _ = fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// serviceStrategy is the strategy of the decision, marked when a fallback
// replaced the requested one; the requested one while unplaced.
func serviceStrategy(ms *fleetv1alpha1.ManagedService) string {
	want := ms.Spec.Placement.Strategy
	if want == "" {
		want = fleetv1alpha1.StrategyWorkload
	}
	got := ms.Status.Placement.Strategy
	switch {
	case ms.Status.Placement.Cluster == "" || got == "" || got == want:
		return string(want)
	default:
		return fmt.Sprintf("%s(fallback from %s)", got, want)
	}
}

// servicePolicy is the policy the decision used, else the one the spec
// names, else "<built-in>".
func servicePolicy(ms *fleetv1alpha1.ManagedService) string {
	if p := ms.Status.Placement.Policy; p != "" {
		return p
	}
	if ref := ms.Spec.Placement.PolicyRef; ref != nil {
		return ref.Name
	}
	return "<built-in>"
}

// conditionStatus is the status of a condition, Unknown when absent.
func conditionStatus(conds []metav1.Condition, t string) string {
	if c := meta.FindStatusCondition(conds, t); c != nil {
		return string(c.Status)
	}
	return string(metav1.ConditionUnknown)
}

// ConditionReason is the reason of a condition, "-" when absent.
func ConditionReason(conds []metav1.Condition, t string) string {
	if c := meta.FindStatusCondition(conds, t); c != nil && c.Reason != "" {
		return c.Reason
	}
	return "-"
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// age is kubectl's compact age of an object, "<unknown>" without a
// creation time.
func age(created metav1.Time, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created.Time))
}

func memberTaints(taints []fleetv1alpha1.MemberTaint) string {
	if len(taints) == 0 {
		return "<none>"
	}
	parts := make([]string, 0, len(taints))
	for _, t := range taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		parts = append(parts, s+":"+string(t.Effect))
	}
	return strings.Join(parts, ",")
}

// nodePoolSummary lists the pools as name:nodes, marking tainted pools,
// e.g. "database:2(tainted) general:3".
func nodePoolSummary(pools []fleetv1alpha1.NodePool) string {
	if len(pools) == 0 {
		return "<none>"
	}
	sorted := slices.Clone(pools)
	slices.SortFunc(sorted, func(a, b fleetv1alpha1.NodePool) int { return strings.Compare(a.Name, b.Name) })
	parts := make([]string, 0, len(sorted))
	for _, p := range sorted {
		s := fmt.Sprintf("%s:%d", p.Name, p.NodeCount)
		if len(p.Taints) > 0 {
			s += "(tainted)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// latencySummary lists the round-trip times to the peers as
// peer:p50/p99, e.g. "mgmt:0.21/0.40ms".
func latencySummary(lat []fleetv1alpha1.PeerLatency) string {
	if len(lat) == 0 {
		return "<none>"
	}
	sorted := slices.Clone(lat)
	slices.SortFunc(sorted, func(a, b fleetv1alpha1.PeerLatency) int { return strings.Compare(a.Peer, b.Peer) })
	parts := make([]string, 0, len(sorted))
	for _, l := range sorted {
		parts = append(parts, fmt.Sprintf("%s:%s/%sms", l.Peer, millis(l.P50.Duration), millis(l.P99.Duration)))
	}
	return strings.Join(parts, " ")
}

// millis formats a duration in milliseconds with two decimals below 10ms
// and none above.
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}
