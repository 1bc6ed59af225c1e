// Package inventory reports what a member cluster has: its node pools and
// its capabilities.
//
// # Node pools
//
// Nodes are grouped by the first of PoolLabels they carry with a non-empty
// value (default node.berth.io/pool, then nodeType); nodes carrying none
// form the pool "default". For each pool NodePools reports:
//   - the labels every node of the pool carries with the same value, except
//     kubernetes.io/hostname, which only names a node;
//   - the taints every node carries (same key, value and effect; TimeAdded
//     is dropped), except the node.kubernetes.io/ taints Kubernetes sets
//     from node conditions (not-ready, unreachable, memory-pressure, ...):
//     they describe a node's health, not the pool's purpose, and would make
//     the status churn;
//   - the node count, cordoned nodes included;
//   - allocatable: the sum of the nodes' status.allocatable;
//   - requested: the sum of the requests of the pods bound to the pool's
//     nodes whose phase is neither Succeeded nor Failed.
//
// Both figures cover cpu, memory and ephemeral-storage, and always carry all
// three keys (zero when nothing is allocatable or requested).
//
// # Pod requests
//
// PodRequests follows the scheduler's rule: the sum over containers, plus
// the sidecars (init containers with restartPolicy Always), or the largest
// init-time demand if that is higher (a regular init container's request
// plus the sidecars started before it); pod-level spec.resources.requests
// replace the container figures for the resources they name; spec.overhead
// is added last. Requests come from the pod spec, not from in-place resize
// status.
//
// # Capabilities
//
// An operator is installed when its CRD exists, is Established and is not
// being deleted:
//   - postgresqls.acid.zalan.do: ZalandoPostgres
//   - redisfailovers.databases.spotahome.com: SpotahomeRedis
//   - rabbitmqclusters.rabbitmq.com: RabbitMQClusterOperator
//
// Cilium is present when ciliumnetworkpolicies.cilium.io is. ClusterMesh is
// detected from the Secret cilium-clustermesh in Cilium's namespace (default
// kube-system) holding at least one key: Cilium mounts it into every agent
// with one entry per remote cluster, so it is non-empty exactly when the
// cluster is meshed. The cluster's Cilium name is the cluster-name key of the
// cilium-config ConfigMap in the same namespace. LoadBalancer support is not
// detected.
//
// # Collector
//
// The Collector keeps the inventory current from watches on nodes, pods
// (only bound, non-terminal ones, through a field selector), CRDs, and the
// two Cilium objects (through name field selectors). The informers store
// slimmed objects (a transform keeps only the fields read here), so a large
// cluster costs little memory. Events only mark the inventory dirty; it is
// recomputed at most once per MinInterval and published only when it
// changed. PolicyRules and NamespacedPolicyRules are the member-cluster
// permissions the Collector needs.
package inventory
