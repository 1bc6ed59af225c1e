package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/cmd/berthctl/cli"
	"github.com/berth-io/berth/deploy/samples"
	"github.com/berth-io/berth/e2e/framework"
)

// demoFieldManager applies the sample set.
const demoFieldManager = "berth-dev-demo"

// demoOptions are the flags of `berth-dev demo`.
type demoOptions struct {
	timeout time.Duration
	samples string
	binDir  string
	explain string
}

// newDemoCommand is `berth-dev demo`, what `make demo` runs.
func newDemoCommand() *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Bring up the local fleet with the hub and spokes, apply the sample services and show where they were placed",
		Long: `demo runs the whole flow on the local fleet and leaves it running:

 1. dev up: the fleet of kwok clusters mgmt, workload-1, workload-2 and services-1,
    registered as Cluster API Clusters in mgmt (reused when it already runs);
 2. the agents as host processes, run from copies of the binaries in the fleet's
    directory (<fleet dir>/berth/bin, logs in <fleet dir>/berth/*.log): berth-hub
    against mgmt, a berth-spoke per member with the credentials the hub issued,
    and a volume provisioner standing in for the storage driver kwok lacks. A
    supervisor (the hidden "berth-dev demo agents") keeps them running; running
    agents are reused;
 3. the sample set (deploy/samples) on the hub: a PostgreSQL co-located with its
    app, a Redis placed by a Dedicated PlacementPolicy and a RabbitMQ in the
    management cluster, plus the consumer namespaces in the member clusters;
 4. waits until the services are Ready, showing each step, then prints the
    services, the members and the placement of one service.

"berth-dev dev down" removes the fleet and every agent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.timeout, "timeout", 10*time.Minute, "how long to wait for the members and the services once the fleet is up")
	f.StringVar(&opts.samples, "samples", "", "directory of the sample manifests to apply to the hub (default: the sample set built into berth-dev, deploy/samples)")
	f.StringVar(&opts.binDir, "bin-dir", "", "directory with berth-hub, berth-spoke and berth-dev (default: the directory of this berth-dev)")
	f.StringVar(&opts.explain, "explain", "team/cart-cache", "the service to explain at the end")
	cmd.AddCommand(newDemoAgentsCommand())
	return cmd
}

// progress prints lines prefixed with the time since the demo started.
type progress struct {
	out   io.Writer
	start time.Time
}

func (p progress) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(p.out, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func runDemo(cmd *cobra.Command, opts *demoOptions) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	p := progress{out: out, start: time.Now()}
	if _, err := cli.ParseServiceRef(opts.explain); err != nil {
		return fmt.Errorf("--explain: %w", err)
	}
	set, err := loadSamples(opts.samples)
	if err != nil {
		return err
	}
	binDir, err := siblingBinDir(opts.binDir)
	if err != nil {
		return err
	}

	// 1. The fleet.
	spec := framework.DevFleetSpec(0)
	spec.Logf = p.printf
	p.printf("Starting the local fleet %s (clusters %s); the first start takes a minute", spec.Name, specClusterNames(spec))
	f, already, err := framework.EnsureFleet(ctx, spec)
	if err != nil {
		if _, ok := errors.AsType[*framework.PortInUseError](err); ok {
			return fmt.Errorf("%w; stop whatever listens there, or run `berth-dev dev down` if an old fleet holds them", err)
		}
		return err
	}
	if already {
		p.printf("Fleet %s is already up", f.Name)
	}

	// 2. The agents.
	if err := ensureAgents(ctx, f, binDir, p); err != nil {
		return err
	}
	mgmt, err := f.Cluster(framework.DevManagementCluster)
	if err != nil {
		return err
	}
	hub, err := mgmt.Client()
	if err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	logs := filepath.Join(agentsDir(f), "*.log")
	if err := waitMembersAvailable(waitCtx, hub, f.ClusterNames(), p); err != nil {
		return fmt.Errorf("%w; the agents' logs are %s", err, logs)
	}

	// 3. The samples.
	if err := applySamples(ctx, f, hub, set, p); err != nil {
		return err
	}

	// 4. Wait, then show.
	keys := sampleServices(set)
	waitErr := waitServicesReady(waitCtx, hub, keys, p)
	if waitErr == nil {
		p.printf("All %d services are Ready after %.0fs", len(keys), time.Since(p.start).Seconds())
	}
	if err := showDemo(ctx, out, hub, keys, opts.explain, f.Name); err != nil {
		return err
	}

	_, _ = fmt.Fprintf(out, "\nThe fleet, the hub and the spokes keep running (logs: %s).\n", logs)
	hints := [][2]string{
		{"berthctl get members --fleet " + f.Name + " -o wide", "members, node pools and peer latency"},
		{"berthctl get services --fleet " + f.Name + " -o wide", "services, policies and condition reasons"},
		{"berthctl explain " + opts.explain + " --fleet " + f.Name, "why a service runs where it runs"},
	}
	for _, h := range hints {
		_, _ = fmt.Fprintf(out, "  %-52s %s\n", h[0], h[1])
	}
	_, _ = fmt.Fprintf(out, "  (--fleet is needed only when you have a kubeconfig of your own: without one, berthctl finds the fleet)\n")
	_, _ = fmt.Fprintf(out, "  export KUBECONFIG=%s   (contexts: %s)\n", f.KubeconfigPath, strings.Join(f.ClusterNames(), ", "))
	_, _ = fmt.Fprintf(out, "Remove everything with: berth-dev dev down\n")
	if waitErr != nil {
		return fmt.Errorf("%w; the fleet keeps running: see %s, or remove it with `berth-dev dev down`", waitErr, logs)
	}
	return nil
}

func specClusterNames(spec framework.FleetSpec) string {
	names := make([]string, 0, len(spec.Clusters))
	for _, c := range spec.Clusters {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// siblingBinDir is the directory holding berth-hub and berth-spoke: the flag,
// else the directory of the running berth-dev.
func siblingBinDir(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("--bin-dir: finding this berth-dev: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", fmt.Errorf("--bin-dir: %w", err)
	}
	return filepath.Dir(self), nil
}

// ensureAgents installs the binaries into the fleet directory and starts
// the supervisor unless it already runs. Agents whose binary was replaced
// by a newer build are stopped, and the supervisor starts them again.
func ensureAgents(ctx context.Context, f *framework.Fleet, binDir string, p progress) error {
	if err := installAgentBinaries(f, binDir); err != nil {
		return err
	}
	running, err := runningAgents(f)
	if err != nil {
		return err
	}
	var stale []string
	for key, a := range running {
		if a.Stale {
			_ = syscall.Kill(a.PID, syscall.SIGTERM)
			stale = append(stale, key)
			delete(running, key)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		p.printf("Restarting %s: rebuilt since they started", strings.Join(stale, ", "))
		if err := waitGone(ctx, f, stale); err != nil {
			return err
		}
	}
	dir := agentsDir(f)
	if sup, ok := running[agentSupervisor]; ok {
		p.printf("The agents' supervisor already runs (pid %d); reusing it", sup.PID)
	} else {
		cmd, err := startDetached(filepath.Join(dir, "bin", agentSupervisor), filepath.Join(dir, "supervisor.log"),
			"demo", "agents", "--fleet", f.Name)
		if err != nil {
			return err
		}
		p.printf("Started the agents' supervisor (pid %d): it runs berth-hub, a berth-spoke per member and the volume provisioner; logs in %s",
			cmd.Process.Pid, dir)
		_ = cmd.Process.Release()
	}
	return nil
}

// waitGone waits until the named agents have exited.
func waitGone(ctx context.Context, f *framework.Fleet, keys []string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		running, err := runningAgents(f)
		if err != nil {
			return err
		}
		left := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { _, ok := running[k]; return !ok })
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not stop within 20s", strings.Join(left, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitMembersAvailable waits until every member is Available, printing a
// line whenever the set changes.
func waitMembersAvailable(ctx context.Context, hub client.Client, names []string, p progress) error {
	last := ""
	for {
		list := &fleetv1alpha1.MemberClusterList{}
		var ready, waiting []string
		if err := hub.List(ctx, list); err == nil {
			byName := map[string]*fleetv1alpha1.MemberCluster{}
			for i := range list.Items {
				byName[list.Items[i].Name] = &list.Items[i]
			}
			for _, n := range names {
				if m := byName[n]; m != nil && meta.IsStatusConditionTrue(m.Status.Conditions, fleetv1alpha1.ConditionAvailable) {
					ready = append(ready, n)
				} else {
					waiting = append(waiting, n+" ("+memberPhase(m)+")")
				}
			}
		} else {
			waiting = append(waiting, "hub API: "+cli.OneLine(err))
		}
		line := fmt.Sprintf("Members Available: %d/%d", len(ready), len(names))
		if len(ready) > 0 {
			line += " [" + strings.Join(ready, ", ") + "]"
		}
		if len(waiting) > 0 {
			line += "; waiting for " + strings.Join(waiting, ", ")
		}
		if line != last {
			p.printf("%s", line)
			last = line
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("members not Available in time: %s", strings.Join(waiting, ", "))
		case <-time.After(2 * time.Second):
		}
	}
}

// memberPhase says how far a member got: not registered, registered,
// joined.
func memberPhase(m *fleetv1alpha1.MemberCluster) string {
	switch {
	case m == nil:
		return "no MemberCluster yet"
	case meta.IsStatusConditionTrue(m.Status.Conditions, fleetv1alpha1.ConditionJoined):
		return "joined, " + cli.ConditionReason(m.Status.Conditions, fleetv1alpha1.ConditionAvailable)
	case meta.IsStatusConditionTrue(m.Status.Conditions, fleetv1alpha1.ConditionRegistered):
		return "registered, spoke not joined"
	default:
		return "registering"
	}
}

// sample is one object of the sample set.
type sample = samples.Object

// loadSamples reads the sample set: the one built into berth-dev, or the
// manifests of dir.
func loadSamples(dir string) ([]sample, error) {
	var fsys fs.FS = samples.FS
	where := "the built-in sample set"
	if dir != "" {
		fsys, where = os.DirFS(dir), dir
	}
	objs, err := samples.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("--samples: %s: %w", where, err)
	}
	return objs, nil
}

// sampleServices are the ManagedServices of the sample set.
func sampleServices(set []sample) []client.ObjectKey {
	var keys []client.ObjectKey
	for _, s := range set {
		if isManagedService(s.Obj) {
			keys = append(keys, client.ObjectKey{Namespace: s.Obj.GetNamespace(), Name: s.Obj.GetName()})
		}
	}
	return keys
}

func isManagedService(u *unstructured.Unstructured) bool {
	return u.GetKind() == "ManagedService" && u.GroupVersionKind().Group == fleetv1alpha1.GroupVersion.Group
}

// consumerNamespaces maps each consumer cluster of the sample services to
// the namespaces their apps run in.
func consumerNamespaces(set []sample) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range set {
		if !isManagedService(s.Obj) {
			continue
		}
		cluster, _, _ := unstructured.NestedString(s.Obj.Object, "spec", "consumer", "cluster")
		nss, _, _ := unstructured.NestedStringSlice(s.Obj.Object, "spec", "consumer", "namespaces")
		if cluster == "" || len(nss) == 0 {
			return nil, fmt.Errorf("--samples: %s: %s: spec.consumer.cluster and spec.consumer.namespaces are required", s.File, s)
		}
		for _, ns := range nss {
			if !slices.Contains(out[cluster], ns) {
				out[cluster] = append(out[cluster], ns)
			}
		}
	}
	return out, nil
}

// applySamples creates the consumer namespaces in the member clusters and
// applies the samples to the hub with server-side apply.
func applySamples(ctx context.Context, f *framework.Fleet, hub client.Client, set []sample, p progress) error {
	consumers, err := consumerNamespaces(set)
	if err != nil {
		return err
	}
	var created []string
	for _, cluster := range slices.Sorted(maps.Keys(consumers)) {
		c, err := f.Cluster(cluster)
		if err != nil {
			return fmt.Errorf("--samples: spec.consumer.cluster: %w", err)
		}
		cl, err := c.Client()
		if err != nil {
			return err
		}
		for _, ns := range consumers[cluster] {
			if err := ensureNamespace(ctx, cl, ns); err != nil {
				return fmt.Errorf("creating the consumer namespace %s in %s: %w", ns, cluster, err)
			}
			created = append(created, cluster+"/"+ns)
		}
	}
	p.printf("Consumer namespaces: %s", strings.Join(created, ", "))
	if err := applyObjects(ctx, hub, set); err != nil {
		return err
	}
	names := make([]string, 0, len(set))
	for _, s := range set {
		names = append(names, s.String())
	}
	p.printf("Applied to the hub: %s", strings.Join(names, ", "))
	return nil
}

// applyObjects applies the samples in order with server-side apply.
func applyObjects(ctx context.Context, c client.Client, set []sample) error {
	for _, s := range set {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(s.Obj.DeepCopy()),
			client.FieldOwner(demoFieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s from %s: %w", s, s.File, err)
		}
	}
	return nil
}

func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// serviceProgress is one line of the wait for a service: its Placed,
// Propagated and Ready conditions.
func serviceProgress(ms *fleetv1alpha1.ManagedService) string {
	placed := "Placed: " + cli.ConditionReason(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced)
	if c := ms.Status.Placement.Cluster; c != "" {
		placed = "Placed: " + c
	}
	return fmt.Sprintf("%s/%s  %s  Propagated: %s  Ready: %s",
		ms.Namespace, ms.Name, placed,
		conditionSummary(ms.Status.Conditions, fleetv1alpha1.ConditionPropagated),
		conditionSummary(ms.Status.Conditions, fleetv1alpha1.ConditionReady))
}

// conditionSummary is "True", or "False (Reason)", or "-" when absent.
func conditionSummary(conds []metav1.Condition, t string) string {
	c := meta.FindStatusCondition(conds, t)
	switch {
	case c == nil:
		return "-"
	case c.Status == metav1.ConditionTrue:
		return "True"
	default:
		return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
	}
}

// waitServicesReady waits until every service is Ready, printing a line
// whenever the state of one changes.
func waitServicesReady(ctx context.Context, hub client.Client, keys []client.ObjectKey, p progress) error {
	last := map[client.ObjectKey]string{}
	for {
		var notReady []string
		for _, k := range keys {
			ms := &fleetv1alpha1.ManagedService{}
			line := ""
			if err := hub.Get(ctx, k, ms); err != nil {
				line = fmt.Sprintf("%s: %s", k, cli.OneLine(err))
			} else {
				line = serviceProgress(ms)
			}
			if line != last[k] {
				p.printf("%s", line)
				last[k] = line
			}
			if !meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionReady) {
				msg := k.String()
				if c := meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionReady); c != nil {
					msg += fmt.Sprintf(" (Ready=%s %s: %s)", c.Status, c.Reason, c.Message)
				}
				notReady = append(notReady, msg)
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not Ready in time: %s", strings.Join(notReady, "; "))
		case <-time.After(2 * time.Second):
		}
	}
}

// showDemo prints the services and members tables and explains one
// service.
func showDemo(ctx context.Context, out io.Writer, hub client.Client, keys []client.ObjectKey, explain, fleet string) error {
	var services []*fleetv1alpha1.ManagedService
	for _, k := range keys {
		ms := &fleetv1alpha1.ManagedService{}
		if err := hub.Get(ctx, k, ms); err != nil {
			return fmt.Errorf("getting ManagedService %s: %w", k, err)
		}
		services = append(services, ms)
	}
	now := time.Now()
	_, _ = fmt.Fprintf(out, "\n$ berthctl get services --fleet %s\n", fleet)
	cli.WriteServices(out, services, false, now)

	list := &fleetv1alpha1.MemberClusterList{}
	if err := hub.List(ctx, list); err != nil {
		return fmt.Errorf("listing MemberClusters: %w", err)
	}
	members, _ := cli.SelectByName(list.Items, nil, func(m *fleetv1alpha1.MemberCluster) string { return m.Name }, nil)
	_, _ = fmt.Fprintf(out, "\n$ berthctl get members --fleet %s\n", fleet)
	cli.WriteMembers(out, members, false, now)

	key, _ := cli.ParseServiceRef(explain)
	ms := &fleetv1alpha1.ManagedService{}
	if err := hub.Get(ctx, key, ms); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("--explain: managedservice %s not found", key)
		}
		return fmt.Errorf("getting ManagedService %s: %w", key, err)
	}
	_, _ = fmt.Fprintf(out, "\n$ berthctl explain %s --fleet %s\n", key, fleet)
	cli.WriteExplain(out, ms, now)
	return nil
}
