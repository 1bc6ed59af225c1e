// Package agent wires berth's spoke: Options (and their flags), the
// hub-side manager, the member cluster, the runnables of packages lease,
// inventory, probe and report, and the ServiceWork controllers of package
// work. Run (or New and Start) runs everything the berth-spoke binary runs;
// cmd/berth-spoke only loads the kubeconfigs and parses flags.
//
// # Clients
//
// New builds a controller-runtime manager whose cluster is the hub
// (Options.HubConfig; LoadHubConfig reads --hub-kubeconfig and keeps its
// token fresh). Its cache is restricted to the member's hub namespace, and
// its client reads MemberClusters and Leases directly, so the spoke never
// lists or watches anything its identity may not. The member cluster
// (Options.MemberConfig; LoadMemberConfig reads --kubeconfig or the
// in-cluster config) is a second cluster.Cluster added to the manager; its
// shared cache holds what the ServiceWork controllers read
// (work.MemberCacheOptions: objects labelled fleet.berth.io/servicework, the
// shared PriorityClass, node addresses). Nothing is contacted before Start,
// so a spoke starts while the hub is down, and controllers on the manager
// wait for the hub's caches as long as it takes instead of failing after two
// minutes.
//
// # Runnables and controllers
//
// Start runs, in the manager: the probe server, the Lease renewer, the
// inventory collector (with its own member-cluster cache), the prober
// (reading the peers ConfigMap from the hub cache), the status reporter,
// and the apply, status and finalize controllers of package work. The
// inventory and the prober feed the reporter; only the reporter writes the
// MemberCluster status. The ServiceWork controllers get the member's
// capabilities from the latest inventory, and keep their records in
// --system-namespace of the member (work.PolicyRules are the member
// permissions they need).
//
// # Metrics
//
// Besides controller-runtime's, the manager's metrics endpoint serves
// berth_spoke_lease_renew_timestamp_seconds, berth_spoke_status_writes_total
// and berth_spoke_peer_rtt_seconds{peer,quantile}, each labelled with the
// member.
package agent
