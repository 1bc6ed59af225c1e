// Package report writes what the spoke knows into its MemberCluster's status
// on the hub.
//
// # Ownership
//
// The status is shared: the hub owns the Registered and Available
// conditions, namespace and observedGeneration (field manager berth-hub);
// the spoke owns the Joined condition, agentVersion, probeEndpoint,
// nodePools, poolCount, capabilities and latencies (field manager
// berth-spoke, FieldManager). The Reporter writes with server-side apply on
// the status subresource and sends only its own fields (OwnedStatusFields),
// built as an unstructured object, so it can neither clear nor take over a
// hub field. conditions is a map-list keyed by type, so applying the Joined
// entry leaves the hub's entries alone. A field the spoke stops sending (for
// example latencies once no peer answers) is removed, because the spoke was
// its only owner.
//
// # Rate
//
// A converged member writes nothing to the hub but its Lease renewals and
// the status that really changed. Inventory and latency updates only mark
// the report dirty. The Reporter writes at most once per MinInterval, and
// compares before every write: the status it would send against the one the
// hub holds, semantically (StatusEqual: quantities by value, so 1 and 1000m
// are equal; times by instant; nil and empty lists alike). What the hub
// holds is what it last accepted; on start, after a failed write and every
// Resync the Reporter reads the MemberCluster instead (a read, not a write),
// so a status someone else wiped or changed is restored, and a restarted
// spoke with nothing new to say writes nothing. It writes nothing before the
// first inventory snapshot, so a restarting spoke does not briefly publish
// an empty cluster. On the first read an existing Joined=True keeps its
// lastTransitionTime. The inventory itself changes only when its values do
// (the Collector publishes only a changed snapshot): node pools, their node
// counts, allocatable and requested resources, capabilities.
//
// # Latencies
//
// The prober measures every round, and its figures jitter: taken as they
// come, every round would be a write. SetLatencies keeps the published
// figures (LatencyPolicy.Stable) unless:
//   - the set of peers changed (a peer appeared, or stopped answering long
//     enough for its samples to expire);
//   - any peer's p50 or p99 moved by more than max(20% of the published
//     value, 1ms) (DefaultLatencyRelative, DefaultLatencyFloor): 20% is
//     far beyond the jitter of a steady link and far below what changes a
//     placement between "same zone" and "another region"; 1ms keeps
//     sub-millisecond links inside one data centre from flapping on
//     scheduling noise; a p99 must move by more than max(20%, 1ms)
//     (DefaultLatencyTailFloor), because the tail of a small sample swings
//     by hundreds of microseconds with the machine's load alone;
//   - the oldest published figure is 30 minutes old
//     (DefaultLatencyMaxAge), so measuredAt never lies by more than that.
//
// Then the whole set is replaced at once, so a stable member refreshes its
// latencies with one write per 30 minutes, not one per peer. Placement
// reads p50 and p99 only. On start the latencies already on the
// MemberCluster count as published.
//
// # Failures
//
// A failed write (hub unreachable, MemberCluster not found, ...) is retried
// with a capped exponential backoff; the last desired state is kept, so the
// status converges as soon as the hub answers. The Reporter never creates or
// deletes the MemberCluster.
package report
