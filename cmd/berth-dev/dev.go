package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/cmd/berthctl/cli"
	"github.com/berth-io/berth/e2e/framework"
)

// devOptions are the flags of `berth-dev dev`.
type devOptions struct {
	fleet    string
	basePort int
	cluster  string
	timeout  time.Duration
}

// newDevCommand is `berth-dev dev up|down|status`: the local fleet of kwok
// clusters that tests and the demo run on.
func newDevCommand() *cobra.Command {
	opts := &devOptions{}
	cmd := cli.GroupCommand("dev", "Run the local development fleet: mgmt, workload-1, workload-2 and services-1 as kwok clusters")
	cmd.PersistentFlags().StringVar(&opts.fleet, "fleet", framework.DevFleetName, "name of the fleet (its state lives in "+framework.FleetsDir()+"/<name>)")

	up := &cobra.Command{
		Use:   "up",
		Short: "Start the fleet (or show it if it already runs) and register its clusters as CAPI Clusters in mgmt",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devUp(cmd, opts)
		},
	}
	up.Flags().IntVar(&opts.basePort, "base-port", framework.DevBasePort, "first loopback port; cluster i uses the ten ports from base-port+10*i")
	up.Flags().DurationVar(&opts.timeout, "timeout", 3*time.Minute, "how long to wait for each cluster")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the fleet and remove all its processes and files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devDown(cmd, opts)
		},
	}

	status := &cobra.Command{
		Use:   "status",
		Short: "List the fleet's clusters, API endpoints and node pools",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devStatus(cmd, opts)
		},
	}
	status.Flags().StringVar(&opts.cluster, "cluster", "", "show only this cluster")

	cmd.AddCommand(up, down, status)
	return cmd
}

func devUp(cmd *cobra.Command, opts *devOptions) error {
	start := time.Now()
	spec := framework.DevFleetSpec(opts.basePort)
	spec.Name = opts.fleet
	spec.ReadyTimeout = opts.timeout
	errOut := cmd.ErrOrStderr()
	spec.Logf = func(format string, args ...any) {
		_, _ = fmt.Fprintf(errOut, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	f, already, err := framework.EnsureFleet(cmd.Context(), spec)
	if err != nil {
		if _, ok := errors.AsType[*framework.PortInUseError](err); ok {
			return fmt.Errorf("%w; stop whatever listens there or pick other ports with --base-port", err)
		}
		return err
	}
	out := cmd.OutOrStdout()
	if already {
		_, _ = fmt.Fprintf(out, "Fleet %s is already up.\n\n", f.Name)
	} else {
		_, _ = fmt.Fprintf(out, "Fleet %s is up after %.1fs.\n\n", f.Name, time.Since(start).Seconds())
	}
	if err := printStatus(cmd, f, f.Clusters); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(out, "\nRemove it with `berth-dev dev down`.\n")
	return nil
}

func devDown(cmd *cobra.Command, opts *devOptions) error {
	found, err := framework.StopFleet(cmd.Context(), opts.fleet)
	if err != nil {
		return err
	}
	if !found {
		_, _ = fmt.Fprintf(cmd.OutOrStdout(), "No fleet %s is running; nothing to remove.\n", opts.fleet)
		return nil
	}
	// StopFleet signals the processes; return only once they have exited,
	// so that the ports and the memory are free when this command ends.
	f := &framework.Fleet{Name: opts.fleet, Dir: filepath.Join(framework.FleetsDir(), opts.fleet)}
	if err := waitProcessesExited(cmd.Context(), f, downTimeout); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(cmd.OutOrStdout(), "Fleet %s removed: no process or file of it is left.\n", opts.fleet)
	return nil
}

// downTimeout bounds the wait for a stopped fleet's processes to exit.
const downTimeout = 30 * time.Second

// waitProcessesExited waits until no process of the fleet's directory is
// left, and names those still running after timeout.
func waitProcessesExited(ctx context.Context, f *framework.Fleet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		procs, err := f.Processes()
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			left := make([]string, 0, len(procs))
			for _, p := range procs {
				left = append(left, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
			}
			return fmt.Errorf("fleet %s: %d process(es) still run %s after it was stopped: %s", f.Name, len(procs), timeout, strings.Join(left, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func devStatus(cmd *cobra.Command, opts *devOptions) error {
	f, err := loadFleet(opts.fleet)
	if err != nil {
		return err
	}
	clusters := f.Clusters
	if opts.cluster != "" {
		c, err := f.Cluster(opts.cluster)
		if err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		clusters = []*framework.Cluster{c}
	}
	return printStatus(cmd, f, clusters)
}

// loadFleet loads a running fleet, with a hint when there is none.
func loadFleet(name string) (*framework.Fleet, error) {
	f, err := framework.LoadFleet(name)
	if errors.Is(err, framework.ErrFleetNotRunning) {
		return nil, fmt.Errorf("no local fleet %q is running; start it with `berth-dev dev up`", name)
	}
	return f, err
}

// printStatus prints a table of the clusters and their node pools, then how
// to reach them. It fails when a cluster does not answer.
func printStatus(cmd *cobra.Command, f *framework.Fleet, clusters []*framework.Cluster) error {
	sub := &framework.Fleet{Name: f.Name, Dir: f.Dir, Clusters: clusters}
	statuses := sub.Status(cmd.Context())
	out := cmd.OutOrStdout()
	writeStatusTable(out, statuses)

	var down []string
	for _, s := range statuses {
		if s.Err != nil {
			down = append(down, s.Cluster.Name)
		}
	}
	_, _ = fmt.Fprintf(out, "\nKubeconfig: export KUBECONFIG=%s (contexts: %s)\n", f.KubeconfigPath, strings.Join(f.ClusterNames(), ", "))
	if f.CAPI != nil {
		_, _ = fmt.Fprintf(out, "CAPI Clusters: kubectl --context %s -n %s get clusters.cluster.x-k8s.io\n", f.CAPI.ManagementCluster, f.CAPI.Namespace)
	}
	if procs, err := f.Processes(); err == nil {
		var rss int64
		for _, p := range procs {
			rss += p.RSS
		}
		_, _ = fmt.Fprintf(out, "Processes: %d, resident memory %.0f MiB\n", len(procs), float64(rss)/(1<<20))
	}
	if len(down) > 0 {
		return fmt.Errorf("cluster %s of fleet %s does not answer; `berth-dev dev up` starts the fleet again", strings.Join(down, ", "), f.Name)
	}
	return nil
}

func writeStatusTable(out io.Writer, statuses []framework.ClusterStatus) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "CLUSTER\tROLE\tAPI ENDPOINT\tPOOL\tNODES\tCPU\tMEMORY\tSTORAGE\tTAINTS")
	for _, s := range statuses {
		c := s.Cluster
		if s.Err != nil {
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\t\t\t\n", c.Name, c.Role, c.Endpoint, "(unreachable)")
			continue
		}
		if len(s.Pools) == 0 {
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\t\t\t\n", c.Name, c.Role, c.Endpoint, "(no nodes)")
		}
		for i, p := range s.Pools {
			name, role, endpoint := c.Name, string(c.Role), c.Endpoint
			if i > 0 {
				name, role, endpoint = "", "", ""
			}
			taints := strings.Join(p.Taints, ",")
			if taints == "" {
				taints = "<none>"
			}
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", name, role, endpoint, p.Name, p.Ready, p.Nodes,
				p.CPU.String(), p.Memory.String(), p.EphemeralStorage.String(), taints)
		}
	}
	_ = tw.Flush()
}
