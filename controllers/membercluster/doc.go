// Package membercluster reconciles MemberClusters on the hub: it gives each
// accepted member a hub namespace, an identity limited to that namespace,
// short-lived credentials, and (for members from Cluster API) a running
// spoke; it turns the spoke's Lease into the Available condition and the
// Unreachable taint; and it keeps a member until its ServiceWorks drained.
//
// # Hub namespace and identity
//
// For an accepted member named X the Reconciler creates, all labelled
// fleet.berth.io/member=X and owned by the MemberCluster:
//
//   - the Namespace berth-member-X (status.namespace);
//   - the ServiceAccount `spoke` there, and a Role and RoleBinding `spoke`
//     that allow exactly what SpokeRules lists: read ServiceWorks and write
//     their status, create and renew the Lease `spoke`, read Secrets and
//     ConfigMaps, write Events;
//   - the ClusterRole and ClusterRoleBinding `berth:member:X` that allow get
//     on MemberCluster X and get/update/patch on its status, and nothing
//     else cluster-wide (ClusterRules).
//
// Members that are not accepted (a manual `berthctl join` waiting for
// `berthctl accept`) get nothing but the condition Registered=False with
// reason NotAccepted.
//
// # Credentials
//
// The Secret `hub-kubeconfig` (key `kubeconfig`) in the hub namespace holds
// a kubeconfig for the hub's external URL and CA with a bound token of the
// `spoke` ServiceAccount from the TokenRequest API. The token is renewed
// once two thirds of its life have passed; the Reconciler requeues itself
// for that moment. A manually joined member's joining identity (annotation
// fleet.berth.io/joined-by) may read that Secret once accepted, so that
// `berthctl join --wait` can fetch it.
//
// # Spoke installation
//
// For a member with a clusterRef the Reconciler reads the Cluster API Secret
// `<cluster>-kubeconfig` and installs berth-spoke with package spokeinstall,
// unless the hub was started without a spoke image or the Cluster is paused
// or being deleted. A missing or unusable kubeconfig makes Registered False
// with reason KubeconfigMissing or KubeconfigInvalid.
//
// # Availability
//
// The spoke renews the Lease `spoke` in its hub namespace. When
// now - renewTime exceeds leaseDurationSeconds × the grace factor (hub flag,
// default 1.5) the member gets Available=False (LeaseExpired) and the taint
// fleet.berth.io/unreachable:NoPlace with reason Unreachable; both are
// cleared when the Lease is fresh again. Without a Lease, Available is
// Unknown (LeaseMissing) and no taint is added.
//
// # Peers
//
// The ConfigMap `peers` in every member namespace maps each other member
// that reports status.probeEndpoint to that address.
//
// # Status ownership
//
// Conditions Registered and Available, status.namespace and
// status.observedGeneration are written with server-side apply on the
// status subresource with field manager berth-hub; the taint is applied to
// spec with the same manager, so taints set by others are left alone.
//
// # Deletion
//
// A member keeps the finalizer fleet.berth.io/member until no ServiceWork is
// left in its hub namespace. While some are, Registered is False with reason
// Draining and an Event names them; the hub does not delete ServiceWorks
// itself, since that would delete services. Then the hub namespace and the
// cluster-scoped RBAC are deleted, and the spoke is removed from a member
// cluster that is not itself being deleted (best effort).
//
// # Metrics
//
// On controller-runtime's metrics registry: berth_member_clusters (members
// by condition type and status), berth_member_lease_age_seconds (per
// member) and berth_member_registration_latency_seconds (from the Cluster's
// ControlPlaneInitialized transition to the member's first Available=True;
// condition timestamps have one-second resolution).
package membercluster
