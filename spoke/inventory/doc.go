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
// # Operator namespaces
//
// DiscoverOperatorNamespaces finds where each operator runs, the way the
// operators' own install manifests lay it out: a ClusterRole grants write
// verbs (create, update, patch or *) on the resources of the operator's CRD
// group (acid.zalan.do, databases.spotahome.com, rabbitmq.com), a
// ClusterRoleBinding binds it to a ServiceAccount, and a Deployment runs
// under that ServiceAccount in its namespace. The operator's namespaces are
// those Deployments' namespaces. Only rules that name the group explicitly
// count, without resourceNames; rules for every group ("*", cluster-admin)
// and aggregated ClusterRoles (admin, edit) do not, so a controller bound
// to cluster-admin is no operator. Any writer of the group counts: the
// RabbitMQ messaging-topology-operator, which calls the same management
// API, is admitted with the cluster-operator. The spoke passes the result
// to the renderer, whose guard rails admit those namespaces on the ports
// the operator dials. The namespaces stay in the member; the hub never sees
// them.
//
// # Collector
//
// The Collector keeps the inventory current from watches on nodes, pods
// (only bound, non-terminal ones, through a field selector), CRDs, the two
// Cilium objects (through name field selectors), and, for operator
// discovery, ClusterRoles, ClusterRoleBindings and Deployments. The
// informers store slimmed objects (a transform keeps only the fields read
// here: of a ClusterRole only the rules naming an operator group, of a
// binding its ServiceAccount subjects, of a Deployment its ServiceAccount),
// so a large cluster costs little memory. Events only mark the inventory
// dirty, and an update that changed nothing the slimmed object keeps (a
// Deployment's status, a node's heartbeat) not even that; the inventory is
// recomputed at most once per MinInterval and published only when it
// changed. OperatorNamespaces returns the latest published discovery.
// PolicyRules and NamespacedPolicyRules are the member-cluster permissions
// the Collector needs.
package inventory
