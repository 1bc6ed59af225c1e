// Package placement decides where berth runs each ManagedService. It ties
// the framework (package framework) and the in-tree plugins (package
// plugins) to berth's three strategies, the hub's placement config and
// PlacementPolicies.
//
// # Strategies
//
// Each strategy is a built-in profile: an ordered list of filters and
// weighted scorers (see DefaultConfig). Workload, the default, keeps only
// the consumer's own cluster; Management keeps members with role
// Management; Dedicated keeps members with role Services, narrowed by the
// service's cluster selector. When the chosen strategy finds no cluster, the
// service stays unplaced (Placed=False with the reasons). It is tried on
// other strategies only when its PlacementPolicy lists them in
// spec.fallback, e.g. Workload then Dedicated: berth never moves a
// service to another kind of cluster on its own.
//
// # Placement config
//
// The hub's --placement-config flag names a YAML file that sets the
// hub-wide profiles, in the manner of KubeSchedulerConfiguration. LoadConfig
// reads it, fills in what it leaves out from DefaultConfig, and validates
// it, reporting every problem with the field's path:
//
//	apiVersion: placement.berth.io/v1alpha1
//	kind: PlacementConfiguration
//	candidatesToRecord: 5            # 1..50
//	profiles:
//	- strategy: Dedicated            # Workload, Management or Dedicated
//	  filters:                       # replaces the built-in filters; must include StrategyRole
//	  - name: StrategyRole
//	  - name: Available
//	  - name: CapacityFit
//	  - name: MaxLatency
//	    args: {allowUnknown: true}
//	  scores:                        # replaces the built-in scores
//	  - name: Latency
//	    weight: 5                    # 1..100, default 1
//	  - name: Steady
//	    weight: 10
//
// A strategy the file does not list keeps its built-in profile, and a
// profile without filters (or scores) keeps the built-in list. The file
// testdata/placement-config.yaml writes the built-in profiles out in full.
//
// # Policies
//
// A PlacementPolicy refines one strategy's profile: its filters and scores,
// when set, replace the hub's lists (with their weights and args), and its
// fallback lists the strategies to try next. Fallback strategies run the
// hub's profiles. A service that names a policy is placed with the policy's
// strategy; the default policy applies only to services without a policyRef
// whose strategy is the policy's, so that it never overrides a strategy a
// service asked for. Placer.CompilePolicy validates a policy with errors such
// as "spec.filters[1].name: unknown plugin \"Foo\"".
//
// # Sticky decisions
//
// Placer.Decide never moves a placed service. While its cluster exists the
// service stays, even when the cluster no longer passes the filters; the
// decision is re-evaluated only to refresh status.placement.candidates and
// to name, in status.placement.betterCandidate, a feasible cluster that
// scores higher. A new decision for a placed service takes an explicit
// request (the fleet.berth.io/replace annotation). When the cluster is gone
// (draining a deleted member is not placement's business), the service
// keeps its placement, the Placed message says so, and it waits for that
// request.
//
// The previous decision is status.placement, or, when status was lost,
// Request.Recorded: the decision recorded in the service's provider
// ServiceWork. A service with a recorded decision is therefore kept where it
// runs (Decision.Restored, and the Placed message says so), never placed
// afresh.
//
// # Out-of-tree plugins
//
// A hub binary built from this module can add its own plugins: implement
// framework.FilterPlugin or framework.ScorePlugin, write a framework.Factory
// that decodes the plugin's args with framework.DecodeArgs, and call
// Register (or MustRegister from an init function) before the hub starts.
// NewRegistry, which the hub uses, then includes the plugin, and the
// placement config or a PlacementPolicy can enable it by name. See
// ExampleRegister.
package placement
