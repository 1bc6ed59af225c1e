// Package spokeinstall installs berth-spoke into a member cluster.
//
// The hub uses it for members registered from Cluster API, reaching the
// member cluster with the CAPI `<name>-kubeconfig` Secret; `berthctl join`
// uses it for manually joined clusters.
//
// # What is installed
//
// Everything lives in the Namespace berth-system and is applied with
// server-side apply (field manager berth-hub), so applying again converges:
//
//   - ServiceAccount berth-spoke;
//   - ClusterRole and ClusterRoleBinding berth-spoke with the least rights
//     the spoke needs (see Rules): read nodes, pods and CRDs; manage the
//     kinds the spoke renders (namespaces, workloads, services, secrets,
//     guard rails, the operators' custom resources); write events;
//   - Role and RoleBinding berth-spoke in berth-system for its leader
//     election Lease;
//   - Secret hub-kubeconfig (key `kubeconfig`) with the spoke's hub
//     credentials, mounted into the pod;
//   - Deployment berth-spoke (one replica, Recreate) running the image the
//     hub was started with.
//
// # Not installed
//
// Nothing outside berth-system except the ClusterRole and its binding.
// Uninstalling is deleting berth-system and the two cluster-scoped objects
// (see Delete).
package spokeinstall
