// Package spoke is berth's agent in a member cluster. It holds no code of
// its own; its subpackages are the spoke's parts, wired by package agent and
// run by cmd/berth-spoke.
//
// # Parts
//
//   - agent: Options and flags, the two clients, and the wiring. Run starts
//     everything, the ServiceWork controllers included; Agent.Manager and
//     Agent.Member let other controllers join.
//   - lease: the heartbeat, a Lease named spoke in the member's hub
//     namespace, renewed every third of its duration.
//   - inventory: node pools and capabilities of the member cluster, kept
//     current from watches.
//   - probe: a TCP echo endpoint for peers, and the prober that measures the
//     round-trip time to every peer and computes p50/p99.
//   - report: the server-side apply of the spoke's fields of the
//     MemberCluster status (field manager berth-spoke).
//   - backoff: the capped exponential backoff of every retry towards the hub.
//   - render and work: turn ServiceWorks into objects in the member cluster
//     and report on them. work keeps, in the member, a record of every
//     object it applied for a work and prunes or deletes only those, with
//     their UID; deletionPolicy Retain orphans the engine with its data (see
//     their own documentation).
//
// # Two clusters
//
// The manager's own cluster is the hub, reached with the member's spoke
// identity (ServiceAccount spoke in berth-member-<member>, from the
// hub-kubeconfig file). That identity may read and write only in its hub
// namespace, plus get its own MemberCluster and update its status: the hub
// cache is therefore restricted to the hub namespace, and Leases and the
// MemberCluster are read directly, never listed or watched. The member
// cluster (in-cluster config, or --kubeconfig) is a second cluster.Cluster.
//
// # Hub <-> spoke contract
//
// From the spoke's side:
//   - heartbeat: Lease spoke in the hub namespace, holderIdentity = member,
//     leaseDurationSeconds = --lease-duration, renewTime every third of it;
//   - status: conditions[Joined] (reason AgentConnected), agentVersion,
//     probeEndpoint, nodePools, poolCount, capabilities and latencies, and
//     nothing else, through server-side apply on the status subresource;
//   - peers: the ConfigMap peers in the hub namespace maps each other member
//     to its probe host:port; the spoke dials only those addresses;
//   - credentials: the hub rewrites the hub-kubeconfig Secret with a fresh
//     bound token before the old one expires; the spoke re-reads the token
//     from the mounted file (every --hub-token-reload, and after a 401).
//
// # When the hub is away
//
// Nothing the spoke runs depends on reaching the hub: inventory watches and
// probing go on (with the last known peer list), the Lease renewal and the
// status write retry with a capped exponential backoff, and every call to
// the hub is bounded by a timeout so none can hang. The spoke never deletes
// anything because the hub is unreachable, and converges as soon as it is
// back: the next renewal refreshes the Lease and the next write carries the
// current inventory.
package spoke
