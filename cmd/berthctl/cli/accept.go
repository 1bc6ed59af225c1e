package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-io/berth/hub/join"
)

// newAcceptCommand is `berthctl accept NAME`: the hub admin approves a
// manually joined member.
func newAcceptCommand() *cobra.Command {
	var hubKubeconfig string
	cmd := &cobra.Command{
		Use:   "accept NAME",
		Short: "Accept a cluster that joined with `berthctl join` (hub admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := joinHubClient(hubKubeconfig)
			if err != nil {
				return err
			}
			changed, err := join.Accept(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if changed {
				fmt.Fprintf(cmd.OutOrStdout(), "MemberCluster %s accepted; the hub now registers it\n", args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "MemberCluster %s was already accepted\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&hubKubeconfig, "hub-kubeconfig", "", "admin kubeconfig for the hub; empty uses $KUBECONFIG or ~/.kube/config")
	return cmd
}
