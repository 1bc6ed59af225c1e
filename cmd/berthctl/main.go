// Command berthctl is berth's command-line tool. The command tree is built in
// root.go; each group of commands lives in a file of its own.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthctl: "+oneLine(err))
		os.Exit(1)
	}
}
