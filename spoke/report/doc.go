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
// Inventory and latency updates only mark the report dirty. The Reporter
// writes at most once per MinInterval, only when the object it would send
// differs from the last one the hub accepted, and again every Resync so a
// status someone else wiped is restored. It writes nothing before the first
// inventory snapshot, so a restarting spoke does not briefly publish an empty
// cluster. On the first write it reads the MemberCluster once: an existing
// Joined=True keeps its lastTransitionTime, and the latencies already there
// are kept until the prober publishes its own.
//
// # Failures
//
// A failed write (hub unreachable, MemberCluster not found, ...) is retried
// with a capped exponential backoff; the last desired state is kept, so the
// status converges as soon as the hub answers. The Reporter never creates or
// deletes the MemberCluster.
package report
