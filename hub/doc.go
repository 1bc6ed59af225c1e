// Package hub wires berth-hub: the scheme, the manager with its metrics and
// health endpoints, and the hub's controllers.
//
// # Running
//
// Run(ctx, Options) builds a controller-runtime manager for the management
// cluster and blocks until ctx is done. cmd/berth-hub binds Options to
// flags with AddFlags; tests fill Options directly (RestConfig, and "0" for
// the bind addresses).
//
// # Controllers
//
// Setup adds to a manager:
//
//   - registration.Reconciler: Cluster API Clusters -> MemberClusters;
//   - membercluster.Reconciler: hub namespace, identity, credentials, spoke
//     installation, availability and peers of each member;
//   - placement.Reconciler and placementpolicy.Reconciler: the placement
//     decision of each ManagedService with the Placer built from
//     Options.PlacementConfig (--placement-config) and
//     Options.PlacementRegistry (out-of-tree plugins), and the Accepted
//     condition of each PlacementPolicy;
//   - propagation.Reconciler: the ServiceWorks of placed services, explicit
//     moves between clusters (the old provider stays until the new one is
//     Available and fleet.berth.io/accept-move names it), and the
//     Propagated/Ready/Moving status aggregated from them;
//   - a runnable that installs the manual-join policy (join.EnsurePolicy)
//     and deletes expired bootstrap identities every ten minutes;
//   - StateMetrics: berth_managed_service_ready and berth_service_works,
//     computed from the cache when scraped, which the Helm chart's
//     PrometheusRule and dashboard use.
//
// # Cache
//
// CacheOptions bound the manager's informers to what the hub reads, so
// that its memory follows the fleet and not the management cluster: no
// managedFields anywhere; ConfigMaps and RBAC objects only with label
// fleet.berth.io/member (the hub's own); Secrets all, for the Cluster API
// kubeconfig Secrets read by name, but with the data kept only for berth's
// and Cluster API's.
//
// # Spoke-facing address
//
// Spokes reach the hub at Options.HubServer with Options.HubCAFile. Both
// default to what the hub itself uses to reach its apiserver, which is right
// for a local fleet; in a real fleet set them to the externally reachable
// URL and its CA. A hub that runs in a cluster and installs spokes refuses
// to start without --hub-server: the in-cluster Service address it would
// hand them is unreachable from members. Options.SpokeExposureSourceCIDRs
// (--spoke-exposure-source-cidr) are passed to every installed spoke.
package hub
