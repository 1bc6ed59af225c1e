package main

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
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
)

// hubOptions choose the hub apiserver that get and explain talk to.
type hubOptions struct {
	kubeconfig  string
	kubeContext string
	fleet       string
}

func (o *hubOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the hub (the management cluster); without it and --context: the local fleet's mgmt cluster when that fleet runs, else $KUBECONFIG or ~/.kube/config")
	fs.StringVar(&o.kubeContext, "context", "", "kubeconfig context of the hub")
	fs.StringVar(&o.fleet, "fleet", framework.DevFleetName, "local fleet whose mgmt cluster is the default hub")
}

// hubConn is a client for the hub and where its configuration came from.
type hubConn struct {
	client client.Client
	// host is the apiserver URL.
	host string
	// namespace is the namespace the kubeconfig context sets; empty when
	// it sets none.
	namespace string
	// source describes where the configuration came from, for errors.
	source string
}

// connect resolves the hub: the kubeconfig flags when given, else the local
// fleet's management cluster when the fleet runs, else the default
// kubeconfig ($KUBECONFIG or ~/.kube/config).
func (o *hubOptions) connect() (*hubConn, error) {
	if o.kubeconfig == "" && o.kubeContext == "" {
		f, err := framework.LoadFleet(o.fleet)
		switch {
		case err == nil:
			mgmt := framework.DevManagementCluster
			if f.CAPI != nil {
				mgmt = f.CAPI.ManagementCluster
			}
			c, err := f.Cluster(mgmt)
			if err != nil {
				return nil, fmt.Errorf("fleet %s: %w", f.Name, err)
			}
			return newHubConn(c.Config, "", fmt.Sprintf("cluster %s of the local fleet %s", c.Name, f.Name))
		case errors.Is(err, framework.ErrFleetNotRunning):
		default:
			return nil, fmt.Errorf("--fleet: %w", err)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) && o.kubeconfig == "" && o.kubeContext == "" {
			return nil, fmt.Errorf("no hub to talk to: no local fleet %q is running (start one with `make demo` or `berthctl dev up`) and no kubeconfig is set ($KUBECONFIG, ~/.kube/config); pass --kubeconfig", o.fleet)
		}
		flag := "--kubeconfig"
		if o.kubeContext != "" {
			flag = "--context"
		}
		return nil, fmt.Errorf("%s: %s", flag, oneLine(err))
	}
	namespace := ""
	if raw, err := cc.RawConfig(); err == nil {
		name := raw.CurrentContext
		if o.kubeContext != "" {
			name = o.kubeContext
		}
		if kc := raw.Contexts[name]; kc != nil {
			namespace = kc.Namespace
		}
	}
	source := "kubeconfig " + o.kubeconfig
	if o.kubeconfig == "" {
		source = "the default kubeconfig"
	}
	if o.kubeContext != "" {
		source += ", context " + o.kubeContext
	}
	return newHubConn(cfg, namespace, source)
}

func newHubConn(cfg *rest.Config, namespace, source string) (*hubConn, error) {
	c, err := client.New(cfg, client.Options{Scheme: framework.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s (%s): %w", cfg.Host, source, err)
	}
	return &hubConn{client: c, host: cfg.Host, namespace: namespace, source: source}, nil
}

// apiError turns an error of a call to the hub into one line that says
// which hub was asked.
func (h *hubConn) apiError(what string, err error) error {
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: the cluster at %s (%s) serves no berth API (fleet.berth.io/v1alpha1): is it a berth hub?", what, h.host, h.source)
	}
	return fmt.Errorf("%s on %s (%s): %w", what, h.host, h.source, err)
}

// outputFormat is the -o flag of get.
type outputFormat string

const (
	outputDefault outputFormat = ""
	outputWide    outputFormat = "wide"
)

func parseOutput(s string) (outputFormat, error) {
	switch outputFormat(s) {
	case outputDefault, outputWide:
		return outputFormat(s), nil
	}
	return "", fmt.Errorf("--output: %q is not supported (use wide, or leave it out)", s)
}

// getOptions are the flags of `berthctl get`.
type getOptions struct {
	hub           hubOptions
	output        string
	namespace     string
	allNamespaces bool
}

// newGetCommand is `berthctl get members|services`: tables of the hub's
// MemberClusters and ManagedServices.
func newGetCommand() *cobra.Command {
	opts := &getOptions{}
	cmd := groupCommand("get", "List the hub's member clusters or managed services")
	opts.hub.addFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVarP(&opts.output, "output", "o", "", "output format: empty, or wide for more columns")

	members := &cobra.Command{
		Use:     "members [NAME...]",
		Aliases: []string{"member", "memberclusters", "mc"},
		Short:   "List MemberClusters: role, availability, node pools, agent version (wide: pools, taints, latency to peers)",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return getMembers(cmd, opts, args)
		},
	}
	services := &cobra.Command{
		Use:     "services [NAME...]",
		Aliases: []string{"service", "managedservices", "ms"},
		Short:   "List ManagedServices: engine, strategy, cluster, readiness, endpoint (wide: policy, reasons, secret)",
		Long: `List ManagedServices. Without --namespace or --all-namespaces it lists the namespace
of the kubeconfig context when that sets one, else all namespaces.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return getServices(cmd, opts, args)
		},
	}
	services.Flags().StringVarP(&opts.namespace, "namespace", "n", "", "namespace of the services")
	services.Flags().BoolVarP(&opts.allNamespaces, "all-namespaces", "A", false, "list the services of every namespace")
	cmd.AddCommand(members, services)
	return cmd
}

func getMembers(cmd *cobra.Command, opts *getOptions, names []string) error {
	format, err := parseOutput(opts.output)
	if err != nil {
		return err
	}
	h, err := opts.hub.connect()
	if err != nil {
		return err
	}
	list := &fleetv1alpha1.MemberClusterList{}
	if err := h.client.List(cmd.Context(), list); err != nil {
		return h.apiError("listing MemberClusters", err)
	}
	items, err := selectByName(list.Items, names, func(m *fleetv1alpha1.MemberCluster) string { return m.Name },
		func(n string) string { return "membercluster " + n })
	if err != nil {
		return err
	}
	if len(items) == 0 {
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "No MemberClusters on %s.\n", h.host)
		return nil
	}
	writeMembers(cmd.OutOrStdout(), items, format == outputWide, time.Now())
	return nil
}

func getServices(cmd *cobra.Command, opts *getOptions, names []string) error {
	format, err := parseOutput(opts.output)
	if err != nil {
		return err
	}
	if opts.allNamespaces && opts.namespace != "" {
		return errors.New("--namespace and --all-namespaces: give at most one of them")
	}
	if opts.allNamespaces && len(names) > 0 {
		return errors.New("--all-namespaces: cannot be used with service names; pick the namespace with --namespace")
	}
	h, err := opts.hub.connect()
	if err != nil {
		return err
	}
	namespace := opts.namespace
	if namespace == "" && !opts.allNamespaces {
		namespace = h.namespace
	}
	if namespace == "" && len(names) > 0 {
		return errors.New("--namespace: required with service names (the kubeconfig context sets none)")
	}
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := h.client.List(cmd.Context(), list, client.InNamespace(namespace)); err != nil {
		return h.apiError("listing ManagedServices", err)
	}
	items, err := selectByName(list.Items, names, func(m *fleetv1alpha1.ManagedService) string { return m.Name },
		func(n string) string { return "managedservice " + namespace + "/" + n })
	if err != nil {
		return err
	}
	if len(names) == 0 {
		slices.SortStableFunc(items, func(a, b *fleetv1alpha1.ManagedService) int { return strings.Compare(a.Namespace, b.Namespace) })
	}
	if len(items) == 0 {
		where := "any namespace"
		if namespace != "" {
			where = "namespace " + namespace
		}
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "No ManagedServices in %s on %s.\n", where, h.host)
		return nil
	}
	writeServices(cmd.OutOrStdout(), items, format == outputWide, time.Now())
	return nil
}

// selectByName keeps the items with the given names, in the order given,
// or all items sorted by name when no name is given. Unknown names are an
// error "<label(name)>, ... not found".
func selectByName[T any](items []T, names []string, nameOf func(*T) string, label func(string) string) ([]*T, error) {
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

// writeMembers prints the MemberClusters table.
func writeMembers(out io.Writer, items []*fleetv1alpha1.MemberCluster, wide bool, now time.Time) {
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

// writeServices prints the ManagedServices table.
func writeServices(out io.Writer, items []*fleetv1alpha1.ManagedService, wide bool, now time.Time) {
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
				conditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced),
				conditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPropagated),
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

// conditionReason is the reason of a condition, "-" when absent.
func conditionReason(conds []metav1.Condition, t string) string {
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
