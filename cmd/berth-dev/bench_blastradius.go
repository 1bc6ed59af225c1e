package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/berth-io/berth/bench/dataplane"
)

// benchBlastRadiusOptions are the flags of `berth-dev bench blastradius`.
type benchBlastRadiusOptions struct {
	engines     []string
	experiments []string
	outage      time.Duration
	out         string
}

func newBenchBlastRadiusCommand() *cobra.Command {
	opts := &benchBlastRadiusOptions{}
	cmd := &cobra.Command{
		Use:   "blastradius",
		Short: "Stop the management gateway and the management control plane and measure which apps lose their service (needs root)",
		Long: `Builds the data-path topology out of network namespaces (workload, management and services
clusters), starts the engines' servers in each, and runs one app per placement (Workload,
Management, Dedicated) that sends a request every 5ms and reconnects after a failure. Then,
one experiment after the other:

  gateway       SIGKILL the management gateway's HAProxy, restart it after --outage;
  controlplane  start a real etcd and kube-apiserver for the management cluster (from
                ` + "`make tools`" + `), SIGKILL both, restart them after --outage.

For each app it records whether it lost its service, the downtime, failed and total
requests, time to the first failure and recovery after the restart; a probe of the
stopped component shows the outage happened. Writes <out>/blastradius.json and the report.

Everything is removed again when the command ends, also on Ctrl-C.`,
		Example: `  sudo bin/berth-dev bench blastradius --out bench/out
  sudo bin/berth-dev bench blastradius --engines redis,postgres --outage 5s --experiments gateway`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchBlastRadius(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.engines, "engines", []string{dataplane.EngineRedis}, "engines the apps use: "+strings.Join(dataplane.EngineOrder, ", "))
	f.StringSliceVar(&opts.experiments, "experiments", dataplane.ExperimentOrder, "what to stop: "+strings.Join(dataplane.ExperimentOrder, ", "))
	f.DurationVar(&opts.outage, "outage", dataplane.DefaultOutage, fmt.Sprintf("how long the component stays stopped (%s..%s)", dataplane.MinOutage, dataplane.MaxOutage))
	f.StringVar(&opts.out, "out", "bench/out", "directory for blastradius.json, report.md and the plots")
	return cmd
}

func benchBlastRadius(cmd *cobra.Command, opts *benchBlastRadiusOptions) error {
	if opts.out == "" {
		return errors.New("flag --out: must not be empty")
	}
	if opts.outage < dataplane.MinOutage || opts.outage > dataplane.MaxOutage {
		return fmt.Errorf("flag --outage: %s is outside %s..%s", opts.outage, dataplane.MinOutage, dataplane.MaxOutage)
	}
	if len(opts.engines) == 0 {
		return errors.New("flag --engines: at least one engine is needed")
	}
	if len(opts.experiments) == 0 {
		return errors.New("flag --experiments: at least one experiment is needed")
	}
	// go-redis logs every refused dial; the apps record failures themselves.
	// RunBlastRadius refuses to run without root (netlab.ErrNotRoot).
	redis.SetLogger(discardLogger{})
	doc, err := dataplane.RunBlastRadius(cmd.Context(), dataplane.BlastRadiusOptions{
		Engines:     opts.engines,
		Experiments: opts.experiments,
		Outage:      opts.outage,
		Progress:    cmd.ErrOrStderr(),
	})
	if err != nil {
		return flagError(err)
	}
	path, err := dataplane.WriteBlastRadiusResults(opts.out, doc)
	if err != nil {
		return err
	}
	return writeReport(cmd, opts.out, path)
}

// discardLogger drops go-redis's log lines.
type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}
