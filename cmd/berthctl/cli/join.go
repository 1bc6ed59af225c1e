package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/join"
	"github.com/berth-io/berth/hub/spokeinstall"
)

// joinOptions are the flags of `berthctl join`.
type joinOptions struct {
	hubKubeconfig string
	name          string
	role          string
	wait          time.Duration
	output        string
	kubeconfig    string
	spokeImage    string
}

// validate names the first bad flag.
func (o *joinOptions) validate() error {
	switch {
	case o.hubKubeconfig == "":
		return errors.New("--hub-kubeconfig: required (the bootstrap kubeconfig from `berthctl join token`)")
	case o.name == "":
		return errors.New("--name: required")
	case o.wait < 0:
		return fmt.Errorf("--wait: %s must not be negative", o.wait)
	case (o.output != "" || o.kubeconfig != "") && o.wait == 0:
		return errors.New("--wait: required with --output or --kubeconfig, which need the credentials the hub issues on acceptance")
	case o.kubeconfig != "" && o.spokeImage == "":
		return errors.New("--spoke-image: required with --kubeconfig")
	case o.spokeImage != "" && o.kubeconfig == "":
		return errors.New("--kubeconfig: required with --spoke-image (the cluster to install the spoke into)")
	}
	return nil
}

// joinTokenOptions are the flags of `berthctl join token`.
type joinTokenOptions struct {
	hubKubeconfig string
	ttl           time.Duration
	server        string
	output        string
}

// newJoinCommand is `berthctl join` (the joining side) and `berthctl join
// token` (the hub admin's side). See package hub/join.
func newJoinCommand() *cobra.Command {
	opts := &joinOptions{}
	cmd := &cobra.Command{
		Use:   "join",
		Short: "Join a cluster not managed by Cluster API to the fleet (it waits for `berthctl accept`)",
		Long: `Join creates a MemberCluster with accepted=false on the hub, using a bootstrap
kubeconfig from "berthctl join token". With --wait it then waits until the hub admin ran
"berthctl accept NAME", fetches the spoke's hub credentials, writes them to --output, and
with --kubeconfig and --spoke-image installs berth-spoke into this cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runJoin(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.hubKubeconfig, "hub-kubeconfig", "", "bootstrap kubeconfig for the hub, from \"berthctl join token\" (required)")
	f.StringVar(&opts.name, "name", "", "name of the member: a DNS-1123 label of at most 50 characters (required)")
	f.StringVar(&opts.role, "role", string(fleetv1alpha1.RoleWorkload), "role of the member: Workload, Management or Services")
	f.DurationVar(&opts.wait, "wait", 0, "how long to wait for acceptance and the spoke's credentials; 0 returns after joining")
	f.StringVar(&opts.output, "output", "", "file to write the spoke's hub kubeconfig to (mode 0600)")
	f.StringVar(&opts.kubeconfig, "kubeconfig", "", "kubeconfig of this (the joining) cluster, to install berth-spoke into")
	f.StringVar(&opts.spokeImage, "spoke-image", "", "berth-spoke image to install with --kubeconfig")

	cmd.AddCommand(newJoinTokenCommand())
	return cmd
}

func newJoinTokenCommand() *cobra.Command {
	opts := &joinTokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create a bootstrap kubeconfig with an expiring token that lets one cluster join (hub admin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.ttl < join.MinTTL {
				return fmt.Errorf("--ttl: %s is shorter than the minimum %s", opts.ttl, join.MinTTL)
			}
			c, cfg, err := joinHubClient(opts.hubKubeconfig)
			if err != nil {
				return err
			}
			tok, err := join.CreateToken(cmd.Context(), c, opts.ttl)
			if err != nil {
				return err
			}
			server := opts.server
			if server == "" {
				server = cfg.Host
			}
			ca, err := joinCAData(cfg)
			if err != nil {
				return err
			}
			kc, err := tok.Kubeconfig(server, ca)
			if err != nil {
				return err
			}
			if opts.output == "" {
				_, err = cmd.OutOrStdout().Write(kc)
			} else {
				err = os.WriteFile(opts.output, kc, 0o600)
			}
			if err != nil {
				return fmt.Errorf("--output: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Bootstrap identity %s expires at %s; run `berthctl join --hub-kubeconfig <this file> --name <member>` on the joining side\n",
				tok.Username, tok.Expires.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.hubKubeconfig, "hub-kubeconfig", "", "admin kubeconfig for the hub; empty uses $KUBECONFIG or ~/.kube/config")
	f.DurationVar(&opts.ttl, "ttl", time.Hour, "how long the token is valid (at least 10m)")
	f.StringVar(&opts.server, "server", "", "hub URL to write into the bootstrap kubeconfig; empty uses the admin kubeconfig's")
	f.StringVar(&opts.output, "output", "", "file to write the bootstrap kubeconfig to (mode 0600); empty prints it")
	return cmd
}

func runJoin(cmd *cobra.Command, opts *joinOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	hubClient, _, err := joinHubClient(opts.hubKubeconfig)
	if err != nil {
		return err
	}
	if err := join.Join(ctx, hubClient, opts.name, fleetv1alpha1.MemberRole(opts.role)); err != nil {
		return err
	}
	fmt.Fprintf(out, "MemberCluster %s created; the hub admin accepts it with `berthctl accept %s`\n", opts.name, opts.name)
	if opts.wait == 0 {
		return nil
	}

	waitCtx, cancel := context.WithTimeout(ctx, opts.wait)
	defer cancel()
	fmt.Fprintf(out, "Waiting up to %s for acceptance\n", opts.wait)
	hubKubeconfig, err := join.WaitForCredentials(waitCtx, hubClient, opts.name, 2*time.Second)
	if err != nil {
		return err
	}
	if opts.output != "" {
		if err := os.WriteFile(opts.output, hubKubeconfig, 0o600); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		fmt.Fprintf(out, "Wrote the spoke's hub kubeconfig to %s\n", opts.output)
	}
	if opts.kubeconfig != "" {
		memberClient, _, err := joinHubClient(opts.kubeconfig)
		if err != nil {
			return fmt.Errorf("--kubeconfig: %w", err)
		}
		if err := spokeinstall.Apply(ctx, memberClient, spokeinstall.Options{
			MemberName:    opts.name,
			HubNamespace:  membercluster.NamespaceFor(opts.name),
			Image:         opts.spokeImage,
			HubKubeconfig: hubKubeconfig,
		}); err != nil {
			return err
		}
		fmt.Fprintf(out, "Installed berth-spoke into %s/%s\n", spokeinstall.Namespace, spokeinstall.Name)
	}
	return nil
}

// joinHubClient returns a client for the cluster of a kubeconfig (empty:
// $KUBECONFIG or ~/.kube/config).
func joinHubClient(path string) (client.Client, *rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("loading kubeconfig %q: %w", path, err)
	}
	scheme := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := fleetv1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("creating a client for %s: %w", cfg.Host, err)
	}
	return c, cfg, nil
}

// joinCAData returns the CA bundle of a rest.Config.
func joinCAData(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CAData) > 0 || cfg.CAFile == "" {
		return cfg.CAData, nil
	}
	b, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the hub CA %s: %w", cfg.CAFile, err)
	}
	return b, nil
}
