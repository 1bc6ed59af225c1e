// Command berthctl is berth's command-line tool for platform teams; the
// command tree lives in package cli. Installed (or linked) as kubectl-berth
// on the PATH it is the kubectl plugin `kubectl berth`, and linked as
// kubectl_complete-berth it answers kubectl's shell completion for it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/berth-io/berth/cmd/berthctl/cli"
)

func main() {
	// berthctl reports errors as return values; the libraries' own logs
	// (client-go, controller-runtime) would only interleave with its output.
	ctrllog.SetLogger(logr.Discard())
	name, args := invocation(os.Args[0], os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRootCommand(name)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+": "+cli.OneLine(err))
		os.Exit(1)
	}
}

// invocation tells from argv[0] how berthctl was called: as itself, as the
// kubectl plugin kubectl-berth, or as kubectl's completion helper
// kubectl_complete-berth, which completes `kubectl berth <args>`.
func invocation(argv0 string, args []string) (string, []string) {
	switch filepath.Base(argv0) {
	case "kubectl-berth":
		return "kubectl berth", args
	case "kubectl_complete-berth":
		return "kubectl berth", append([]string{"__complete"}, args...)
	default:
		return "berthctl", args
	}
}
