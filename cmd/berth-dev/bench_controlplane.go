package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/bench/controlplane"
)

// benchControlplaneOptions are the flags of `berth-dev bench controlplane`.
type benchControlplaneOptions struct {
	opts      controlplane.Options
	hubBinary string
	out       string
}

func newBenchControlplaneCommand() *cobra.Command {
	o := &benchControlplaneOptions{}
	cmd := &cobra.Command{
		Use:   "controlplane",
		Short: "Measure registration and propagation latency and the hub's memory against the number of members",
		Long: `For each fleet size, starts a fresh kube-apiserver and etcd from the tools cache (make tools),
runs the real berth-hub against it, and simulates the spokes in this process with the
credentials the hub issues to each member: Lease renewals, status reports, and ServiceWork
status as berth-spoke writes it once a service is up. Measures MemberCluster created ->
Available, ManagedService created -> Propagated and -> Ready, and the hub's RSS and CPU
time. Writes <out>/controlplane.json and the report.`,
		Example: `  berth-dev bench controlplane --members 10,100,1000 --out bench/out
  berth-dev bench controlplane --members 10 --services 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchControlplane(cmd, o)
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&o.opts.Members, "members", controlplane.DefaultMembers, "fleet sizes to measure, each on a fresh apiserver (at least 3)")
	f.IntVar(&o.opts.Services, "services", controlplane.DefaultServices, "ManagedServices created at each size")
	f.DurationVar(&o.opts.Timeout, "timeout", controlplane.DefaultTimeout, "upper bound of each size")
	f.Float32Var(&o.opts.HubKubeAPIQPS, "hub-kube-api-qps", 0, "berth-hub's --kube-api-qps (default: berth-hub's default)")
	f.DurationVar(&o.opts.LeaseDuration, "lease-duration", 0, "the simulated spokes' Lease duration (default: berth-spoke's)")
	f.StringVar(&o.hubBinary, "hub-binary", "", "the berth-hub executable (default: berth-hub next to this berth-dev)")
	f.StringVar(&o.opts.WorkDir, "work-dir", "", "directory for the hub's logs (default: a temporary directory, removed afterwards)")
	f.StringVar(&o.out, "out", "bench/out", "directory for controlplane.json, report.md and the plots")
	return cmd
}

func benchControlplane(cmd *cobra.Command, o *benchControlplaneOptions) error {
	if o.out == "" {
		return errors.New("flag --out: must not be empty")
	}
	if o.hubBinary == "" {
		dir, err := siblingBinDir("")
		if err != nil {
			return fmt.Errorf("flag --hub-binary: %w", err)
		}
		o.hubBinary = filepath.Join(dir, "berth-hub")
	}
	o.opts.HubBinary = o.hubBinary
	o.opts.Progress = cmd.ErrOrStderr()
	doc, runErr := controlplane.Run(cmd.Context(), o.opts)
	if doc == nil {
		return flagError(runErr)
	}
	path, err := controlplane.WriteResults(o.out, doc)
	if err != nil {
		return errors.Join(runErr, err)
	}
	return errors.Join(runErr, writeReport(cmd, o.out, path))
}
