package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// NewRootCommand builds berthctl's command tree. name is how the user called
// it: "berthctl", or "kubectl berth" when kubectl runs it as a plugin; help
// and examples use it. Each group of commands is a newXCommand function in a
// file of its own, added here.
func NewRootCommand(name string) *cobra.Command {
	if name == "" {
		name = "berthctl"
	}
	kf := &kubeFlags{fleet: defaultFleet}
	root := &cobra.Command{
		Use:   strings.ReplaceAll(name, " ", "-"),
		Short: "berthctl operates berth, the multi-cluster placement of managed data services",
		Long: `berthctl operates berth, the multi-cluster placement of managed data services.

It talks to the hub (the management cluster) like kubectl does: --kubeconfig, else
$KUBECONFIG, else ~/.kube/config, with --context and -n. Only when none of them exists
does it fall back to the local development fleet of berth-dev (make demo).

Installed as kubectl-berth on the PATH (a link to berthctl), it is also "kubectl berth".`,
		// Errors are printed once, as one line, by main.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	if strings.Contains(name, " ") {
		// As a kubectl plugin the binary is kubectl-berth; help says
		// "kubectl berth".
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: name}
	}
	root.AddCommand(
		newGetCommand(kf),
		newExplainCommand(kf),
		newJoinCommand(),
		newAcceptCommand(),
		newVersionCommand(kf),
	)
	return root
}

// OneLine folds an error (e.g. from errors.Join, or cobra's suggestions)
// into one line.
func OneLine(err error) string {
	var parts []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// GroupCommand makes a command that only holds subcommands: without one it
// prints its help, and with an unknown one it fails.
func GroupCommand(use, short string) *cobra.Command {
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
