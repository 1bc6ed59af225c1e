package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/bench"
	"github.com/berth-io/berth/bench/dataplane"
	"github.com/berth-io/berth/bench/report"
	"github.com/berth-io/berth/cmd/berthctl/cli"
)

// benchDataplaneOptions are the flags of `berth-dev bench dataplane`.
type benchDataplaneOptions struct {
	profiles    []string
	engines     []string
	duration    time.Duration
	ops         int
	warmup      int
	repeats     int
	concurrency int
	out         string
	require     bool
}

// newBenchCommand is `berth-dev bench dataplane|report`: the benchmarks that
// compare the placements.
func newBenchCommand() *cobra.Command {
	cmd := cli.GroupCommand("bench", "Measure what each placement costs (data path, control path, blast radius) and write the report")
	cmd.AddCommand(newBenchDataplaneCommand(), newBenchControlplaneCommand(), newBenchBlastRadiusCommand(), newBenchReportCommand())
	return cmd
}

func newBenchDataplaneCommand() *cobra.Command {
	opts := &benchDataplaneOptions{}
	cmd := &cobra.Command{
		Use:   "dataplane",
		Short: "Measure latency and throughput of Redis, PostgreSQL and RabbitMQ per placement in network namespaces (needs root)",
		Long: `Builds a workload cluster, a management cluster and a services cluster out of network
namespaces, runs real redis-server, PostgreSQL and RabbitMQ servers in them (install them
with hack/bench/setup.sh), reaches the remote clusters through an HAProxy gateway and an
emulated link, and measures single-request latency, chatty transactions and throughput
with the real client libraries. Writes <out>/dataplane.json and the report.

Everything is removed again when the command ends, also on Ctrl-C.`,
		Example: `  sudo bin/berth-dev bench dataplane --profile 0,0.5ms --out bench/out
  sudo bin/berth-dev bench dataplane --engines redis --duration 1s --repeats 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchDataplane(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.profiles, "profile", []string{"0"}, "link profiles: 0 (no added latency) and/or a one-way latency such as 0.5ms (jitter: a tenth of it); comma-separated to measure several")
	f.StringSliceVar(&opts.engines, "engines", dataplane.EngineOrder, "engines to measure: "+strings.Join(dataplane.EngineOrder, ", "))
	f.DurationVar(&opts.duration, "duration", dataplane.DefaultDuration, "upper bound of each measurement's time")
	f.IntVar(&opts.ops, "ops", dataplane.DefaultMaxOps, "upper bound of each measurement's operations")
	f.IntVar(&opts.warmup, "warmup", dataplane.DefaultWarmup, "warm-up operations before each measurement")
	f.IntVar(&opts.repeats, "repeats", dataplane.DefaultRepeats, "repeats of each measurement (the noise figure needs at least 2)")
	f.IntVar(&opts.concurrency, "concurrency", dataplane.DefaultConcurrency, "connections of the throughput scenario")
	f.StringVar(&opts.out, "out", "bench/out", "directory for dataplane.json, report.md and the plots")
	f.BoolVar(&opts.require, "require", false, "fail instead of skipping an engine that cannot start")
	return cmd
}

func benchDataplane(cmd *cobra.Command, opts *benchDataplaneOptions) error {
	if opts.out == "" {
		return errors.New("flag --out: must not be empty")
	}
	if opts.warmup < 0 {
		return fmt.Errorf("flag --warmup: must not be negative, got %d", opts.warmup)
	}
	warmup := opts.warmup
	if warmup == 0 {
		warmup = 1 // Options treats 0 as "default"; one operation is the least warm-up
	}
	doc, err := dataplane.Run(cmd.Context(), dataplane.Options{
		Profiles:    opts.profiles,
		Engines:     opts.engines,
		Duration:    opts.duration,
		MaxOps:      opts.ops,
		Warmup:      warmup,
		Repeats:     opts.repeats,
		Concurrency: opts.concurrency,
		Required:    opts.require,
		Progress:    cmd.ErrOrStderr(),
	})
	if err != nil {
		return flagError(err)
	}
	path, err := dataplane.WriteResults(opts.out, doc)
	if err != nil {
		return err
	}
	return writeReport(cmd, opts.out, path)
}

func newBenchReportCommand() *cobra.Command {
	var in, out string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write report.md and SVG plots from the results (*.json) in a directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" {
				return errors.New("flag --in: the results directory is required")
			}
			files, err := report.Generate(in, out)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "bench/out", "directory holding the results (*.json)")
	cmd.Flags().StringVar(&out, "out", "", "directory for report.md and the plots (default: --in)")
	return cmd
}

// writeReport regenerates the report in dir, where results were just
// written to path, and prints where both are.
func writeReport(cmd *cobra.Command, dir, path string) error {
	files, err := report.Generate(dir, "")
	if err != nil {
		return fmt.Errorf("results are in %s, but the report failed: %w", path, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "results: %s\nreport:  %s (%d plots)\n", path, files[0], len(files)-1)
	return nil
}

// flagError names the berth-dev flag of an invalid benchmark option.
func flagError(err error) error {
	if fe, ok := errors.AsType[*bench.FieldError](err); ok {
		return fmt.Errorf("flag --%s: %w", fe.Field, fe.Err)
	}
	return err
}
