// Package registration turns Cluster API Clusters into MemberClusters.
//
// # Registering
//
// The Reconciler watches clusterv1.Cluster (cluster.x-k8s.io/v1beta2). A
// Cluster is registered once its control plane is initialized
// (status.initialization.controlPlaneInitialized, or the
// ControlPlaneInitialized condition) and its Secret `<name>-kubeconfig`
// holds a kubeconfig that parses. The Reconciler then applies a
// MemberCluster (field manager berth-hub-registration) with clusterRef set,
// accepted=true and the role from the Cluster's label fleet.berth.io/role
// (default Workload).
//
// # Names
//
// The member is named by the Cluster's annotation fleet.berth.io/member-name
// when present (it must be a DNS-1123 label of at most 50 characters), else
// by MemberName: `<namespace>-<name>` lowercased, with characters outside
// [a-z0-9-] replaced by '-', cut to 50 characters; a name that had to be
// changed beyond lowercasing gets a hash suffix so that different Clusters
// keep different names. A name already used by another member is refused.
//
// # Problems
//
// A missing or corrupt kubeconfig Secret, a bad name annotation, a bad role
// label or a name conflict registers nothing: the Reconciler records one
// Warning Event on the Cluster whose reason names the problem
// (KubeconfigMissing, KubeconfigInvalid, InvalidMemberName, InvalidRole,
// NameConflict). Kubeconfig problems are retried with backoff and on every
// change of the Secret; the others wait for the Cluster to change.
//
// # Paused and deleted Clusters
//
// A paused Cluster is still registered; the membercluster Reconciler
// reflects the pause in the Registered condition and leaves the member
// cluster alone. When a Cluster is being deleted or is gone, its members are
// deleted; their finalizer keeps them until their ServiceWorks are drained.
package registration
