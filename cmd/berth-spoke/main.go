// Command berth-spoke runs berth's agent in a member cluster: it joins the
// hub, heartbeats, reports inventory and latency to peers, and realises the
// member's ServiceWorks. See package spoke.
package main

import (
	"flag"
	"os"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/berth-io/berth/spoke/agent"
)

func main() {
	var (
		opts          agent.Options
		hubKubeconfig string
		kubeconfig    string
		tokenReload   time.Duration
		zapOpts       zap.Options
		apiQPS        float32
	)
	cmd := &cobra.Command{
		Use:          "berth-spoke",
		Short:        "Run berth's agent in a member cluster",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			var err error
			if opts.HubConfig, err = agent.LoadHubConfig(hubKubeconfig, tokenReload); err != nil {
				return err
			}
			if opts.MemberConfig, err = agent.LoadMemberConfig(kubeconfig); err != nil {
				return err
			}
			// client-go's default 5 QPS throttles converging many works at
			// once: a new ServiceWork costs a few dozen requests.
			opts.HubConfig.QPS, opts.HubConfig.Burst = apiQPS, int(2*apiQPS)
			opts.MemberConfig.QPS, opts.MemberConfig.Burst = apiQPS, int(2*apiQPS)
			opts.PodIP = os.Getenv("POD_IP")
			return agent.Run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.Float32Var(&apiQPS, "kube-api-qps", 100, "Client-side requests per second to each apiserver (hub and member); burst is twice this.")
	fs.StringVar(&hubKubeconfig, "hub-kubeconfig", "", "Path of the kubeconfig for the hub, as in the hub-kubeconfig Secret (required).")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "Path of the kubeconfig for this member cluster; empty uses the in-cluster config.")
	fs.DurationVar(&tokenReload, "hub-token-reload", agent.DefaultTokenReload, "How often the hub token is re-read from --hub-kubeconfig.")
	opts.AddFlags(fs)
	goFlags := flag.NewFlagSet("zap", flag.ExitOnError)
	zapOpts.BindFlags(goFlags)
	fs.AddGoFlagSet(goFlags)
	if err := cmd.ExecuteContext(ctrl.SetupSignalHandler()); err != nil {
		os.Exit(1)
	}
}
