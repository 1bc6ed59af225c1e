package cli

import (
	"context"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// completionTimeout bounds the hub calls of shell completion, so a hub that
// does not answer never hangs the shell.
const completionTimeout = 5 * time.Second

// completeMembers offers the names of the hub's MemberClusters not yet on
// the command line.
func completeMembers(cmd *cobra.Command, kf *kubeFlags, args []string) ([]cobra.Completion, cobra.ShellCompDirective) {
	h, err := kf.connect(cmd.Flags().Changed("fleet"))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
	defer cancel()
	list := &fleetv1alpha1.MemberClusterList{}
	if err := h.client.List(ctx, list); err != nil {
		return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, m := range list.Items {
		if !slices.Contains(args, m.Name) {
			out = append(out, cobra.CompletionWithDesc(m.Name, string(m.Spec.Role)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeServices offers the names of the ManagedServices in the namespace
// of -n (or of the kubeconfig context) not yet on the command line; for
// explain, which takes <namespace>/<name>, every service of every namespace.
func completeServices(cmd *cobra.Command, kf *kubeFlags, args []string) ([]cobra.Completion, cobra.ShellCompDirective) {
	h, err := kf.connect(cmd.Flags().Changed("fleet"))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
	}
	qualified := cmd.Name() == "explain"
	if qualified && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
	defer cancel()
	var opts []client.ListOption
	if !qualified && h.namespace != "" {
		opts = append(opts, client.InNamespace(h.namespace))
	}
	list := &fleetv1alpha1.ManagedServiceList{}
	if err := h.client.List(ctx, list, opts...); err != nil {
		return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, ms := range list.Items {
		name := ms.Name
		if qualified {
			name = ms.Namespace + "/" + ms.Name
		}
		if !slices.Contains(args, name) {
			out = append(out, cobra.CompletionWithDesc(name, string(ms.Spec.Engine)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completionContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
