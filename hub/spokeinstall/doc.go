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
//   - Deployment berth-spoke (one replica, Recreate, non-root 65532 with a
//     read-only root file system, health probes on /healthz and /readyz)
//     running the image the hub was started with, and passing it the
//     exposure source ranges the hub was given (--exposure-source-cidr);
//   - Service berth-spoke-metrics in front of its metrics port, for a
//     Prometheus in the member cluster.
//
// # One source for deploy/
//
// Rules and NamespaceRules are the only definition of the spoke's RBAC:
// hack/deploygen writes them into the Helm chart (deploy/charts/berth), from
// which the kustomize base deploy/spoke is rendered, and a test here keeps
// the chart's spoke Deployment equal to the one installed here.
//
// # Not installed
//
// Nothing outside berth-system except the ClusterRole and its binding.
// Uninstalling is deleting berth-system and the two cluster-scoped objects
// (see Delete).
package spokeinstall
