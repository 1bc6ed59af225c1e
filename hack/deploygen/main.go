// Command deploygen writes the parts of deploy/ that derive from one source,
// so that they cannot drift (`make generate` runs it; `make verify` fails
// when its output is stale):
//
//   - deploy/charts/berth/files/spoke-rules.yaml and
//     spoke-namespace-rules.yaml: the spoke's RBAC rules from
//     spokeinstall.Rules() and spokeinstall.NamespaceRules(), the same rules
//     the hub installs into Cluster API members;
//   - deploy/charts/berth/crds/: the CRDs of deploy/crds (controller-gen's
//     output);
//   - deploy/hub/berth.yaml and deploy/spoke/berth.yaml: the kustomize bases,
//     rendered from the chart with deploy/hub/values.yaml and
//     deploy/spoke/values.yaml by the pinned helm.
//
// `deploygen check` (make verify) lints the chart with `helm lint --strict`,
// renders it with every values file of deploy/charts/berth/ci, and checks
// the rendered PrometheusRule with promtool.
//
// Run it from the repository root.
package main

import (
	"fmt"
	"os"
)

func main() {
	run := generate
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "check":
			run = check
		default:
			fmt.Fprintf(os.Stderr, "deploygen: unknown command %q (want no argument, or check)\n", os.Args[1])
			os.Exit(2)
		}
	}
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "deploygen:", err)
		os.Exit(1)
	}
}
