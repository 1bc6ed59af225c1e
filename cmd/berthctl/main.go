// Command berthctl is berth's command-line tool. The command tree is built in
// root.go; each group of commands lives in a file of its own.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	// berthctl reports errors as return values; the libraries' own logs
	// (client-go, controller-runtime) would only interleave with its output.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthctl: "+oneLine(err))
		os.Exit(1)
	}
}
