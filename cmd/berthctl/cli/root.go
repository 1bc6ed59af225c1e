package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newRootCommand builds berthctl's command tree. Each group of commands is a
// newXCommand function in a file of its own (dev.go, ...), added here.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "berthctl",
		Short: "berthctl operates berth, the multi-cluster placement of managed data services",
		// Errors are printed once, as one line, by main.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(
		newDevCommand(),
		newBenchCommand(),
	)
	root.AddCommand(newJoinCommand())
	root.AddCommand(newAcceptCommand())
	root.AddCommand(newGetCommand())
	root.AddCommand(newExplainCommand())
	root.AddCommand(newDemoCommand())
	return root
}

// oneLine folds an error (e.g. from errors.Join, or cobra's suggestions) into
// one line.
func oneLine(err error) string {
	var parts []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// groupCommand makes a command that only holds subcommands: without one it
// prints its help, and with an unknown one it fails.
func groupCommand(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
	}
}

func unknownCommand(cmd *cobra.Command, name string) error {
	names := make([]string, 0, len(cmd.Commands()))
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return fmt.Errorf("unknown command %q for %q (available: %s)", name, cmd.CommandPath(), strings.Join(names, ", "))
}
