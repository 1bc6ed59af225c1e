// Package plugins holds berth's in-tree placement plugins and
// NewInTreeRegistry, which registers them.
//
// # Filters
//
//   - StrategyRole: Workload keeps only the consumer's own cluster;
//     Management keeps members with role Management; Dedicated keeps
//     members with role Services whose labels match the service's
//     spec.placement.clusterSelector, when it has one.
//   - Available: drops members whose Available condition is not True (the
//     spoke's Lease is stale) and members with a NoPlace taint that args
//     tolerations do not tolerate.
//   - EngineSupport: keeps members with the engine's operator
//     (PostgreSQL: ZalandoPostgres, Redis: SpotahomeRedis, RabbitMQ:
//     RabbitMQClusterOperator), and every member when args allowBuiltIn is
//     true (the default), since the spoke can then render the built-in
//     StatefulSet.
//   - CapacityFit: the service's total requests (replicas times
//     resources.requests for cpu and memory, falling back to limits; replicas
//     times storage.size for storage) must fit the free resources
//     (allocatable minus requested) of one node pool whose labels match
//     spec.nodePool.nodeSelector and whose NoSchedule and NoExecute taints
//     spec.nodePool.tolerations tolerate. Storage is compared with the
//     pool's free ephemeral-storage, a stand-in for node-local volumes; it is
//     skipped for pools that report no ephemeral-storage and when args
//     checkStorage is false. On the cluster a service is already placed on,
//     its requests are not added again.
//   - MaxLatency: with spec.placement.maxLatency set, drops members whose
//     p99 round-trip time to the consumer cluster is higher. The member's
//     own measurement is used, else the consumer's measurement of it; the
//     consumer itself has 0. An unknown RTT does not fit unless args
//     allowUnknown is true.
//
// # Scores
//
//   - CoLocation: 100 on the consumer's cluster, 0 elsewhere.
//   - Latency: the lowest p50 round-trip time to the consumer gets 100, the
//     highest 0, linear in between; unknown gets 0.
//   - CapacityHeadroom: 100 times the share of the best pool's cpu and
//     memory still free after placing the service.
//   - Spread: fewer services of the same namespace (tenant) on the cluster
//     score higher: 100 for none, 0 for the most loaded candidate.
//   - Steady: 100 on the cluster the service is placed on, 0 elsewhere.
//   - PreferNoPlace: 0 on a member with a PreferNoPlace taint that args
//     tolerations do not tolerate, 100 elsewhere.
//
// # Args
//
// Every plugin decodes its args with framework.DecodeArgs, so unknown
// fields and wrong types are errors naming the field. Available and
// PreferNoPlace take tolerations of member taints:
//
//	args:
//	  tolerations:
//	  - key: fleet.berth.io/maintenance
//	    operator: Exists        # or Equal (the default) with a value
//	    effect: NoPlace         # empty tolerates both effects
package plugins
