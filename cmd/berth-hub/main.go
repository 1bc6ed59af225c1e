// Command berth-hub runs berth's hub in the management cluster: it registers
// member clusters and places managed services. See package hub.
package main

import (
	"flag"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/berth-io/berth/hub"
)

func main() {
	opts := hub.NewOptions()
	zapOpts := zap.Options{}
	cmd := &cobra.Command{
		Use:           "berth-hub",
		Short:         "Run berth's hub: register member clusters and place managed services",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: false,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			return hub.Run(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	goFlags := flag.NewFlagSet("zap", flag.ExitOnError)
	zapOpts.BindFlags(goFlags)
	cmd.Flags().AddGoFlagSet(goFlags)
	if err := cmd.ExecuteContext(ctrl.SetupSignalHandler()); err != nil {
		os.Exit(1)
	}
}
