// Command berth-dev is berth's development tooling, kept apart from the
// berthctl that platform teams install: the local fleet of kwok clusters
// (dev up|down|status), the demo that runs hub and spokes on it (demo, what
// `make demo` runs), and the benchmarks (bench). It links the test harness
// (e2e/framework, envtest's binaries, bench); berthctl does not.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/berth-io/berth/cmd/berthctl/cli"
)

func main() {
	// Errors are return values; the libraries' own logs (client-go,
	// controller-runtime) would only interleave with the output.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth-dev: "+cli.OneLine(err))
		os.Exit(1)
	}
}

// newRootCommand builds berth-dev's command tree.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "berth-dev",
		Short: "berth's development tooling: the local fleet, the demo and the benchmarks",
		Long: `berth-dev runs what developers of berth need on one machine: a local fleet of
real control planes with kwok nodes (dev up|down|status), the demo that runs the hub
and the spokes on it (demo), and the benchmarks (bench). Platform teams use berthctl.`,
		// Errors are printed once, as one line, by main.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(newDevCommand(), newDemoCommand(), newBenchCommand())
	return root
}
