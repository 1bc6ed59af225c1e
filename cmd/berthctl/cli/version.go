package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"
)

// Version is berthctl's version, set at build time with
// -ldflags "-X github.com/berth-io/berth/cmd/berthctl/cli.Version=v1.2.3"
// (make build does).
var Version = ""

// BuildVersion is Version, else the module version from the build info,
// else "dev".
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// versionInfo is what `berthctl version` prints.
type versionInfo struct {
	Client struct {
		Version   string `json:"version"`
		GoVersion string `json:"goVersion"`
		Platform  string `json:"platform"`
	} `json:"client"`
	// Hub is the hub apiserver's Kubernetes version; absent with --client.
	Hub *struct {
		Server     string `json:"server"`
		Kubernetes string `json:"kubernetesVersion"`
	} `json:"hub,omitempty"`
}

// newVersionCommand is `berthctl version`: its own version and, unless
// --client, the hub apiserver's.
func newVersionCommand(kf *kubeFlags) *cobra.Command {
	var clientOnly bool
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print berthctl's version and the hub apiserver's Kubernetes version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != outputJSON && output != outputYAML {
				return fmt.Errorf("--output: %q is not supported (use json or yaml, or leave it out)", output)
			}
			info := versionInfo{}
			info.Client.Version = BuildVersion()
			info.Client.GoVersion = runtime.Version()
			info.Client.Platform = runtime.GOOS + "/" + runtime.GOARCH
			var hubErr error
			if !clientOnly {
				hubErr = func() error {
					h, err := kf.connect(cmd.Flags().Changed("fleet"))
					if err != nil {
						return err
					}
					dc, err := discovery.NewDiscoveryClientForConfig(h.config)
					if err != nil {
						return err
					}
					v, err := dc.ServerVersion()
					if err != nil {
						return h.apiError("getting the version", err)
					}
					info.Hub = &struct {
						Server     string `json:"server"`
						Kubernetes string `json:"kubernetesVersion"`
					}{Server: h.host, Kubernetes: v.GitVersion}
					return nil
				}()
			}
			out := cmd.OutOrStdout()
			switch output {
			case outputJSON:
				raw, err := json.MarshalIndent(info, "", "    ")
				if err != nil {
					return err
				}
				_, _ = fmt.Fprintf(out, "%s\n", raw)
			case outputYAML:
				raw, err := yaml.Marshal(info)
				if err != nil {
					return err
				}
				_, _ = out.Write(raw)
			default:
				_, _ = fmt.Fprintf(out, "Client Version: %s (%s, %s)\n", info.Client.Version, info.Client.GoVersion, info.Client.Platform)
				if info.Hub != nil {
					_, _ = fmt.Fprintf(out, "Hub Kubernetes Version: %s (%s)\n", info.Hub.Kubernetes, info.Hub.Server)
				}
			}
			return hubErr
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "Print only berthctl's version; do not ask the hub")
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml")
	kf.addFlags(cmd.Flags())
	return cmd
}
