// Package join is the manual join of clusters that Cluster API does not
// manage: a bootstrap token with an expiry, a MemberCluster created with
// accepted=false, and the hub admin's acceptance.
//
// # Flow
//
//  1. The hub admin runs `berthctl join token --ttl 1h` (CreateToken). It
//     creates the ServiceAccount berth-system/bootstrap-<id>, binds it to the
//     ClusterRole berth:bootstrap (create MemberClusters, nothing else), and
//     prints a kubeconfig holding a token of that ServiceAccount from the
//     TokenRequest API with the given expiry. The apiserver rejects the
//     token after it expires; deleting the ServiceAccount revokes it
//     earlier, and the hub deletes expired bootstrap ServiceAccounts
//     (DeleteExpired).
//  2. On the joining side `berthctl join --hub-kubeconfig bootstrap.kubeconfig
//     --name X` (Join) creates MemberCluster X with accepted=false and the
//     annotation fleet.berth.io/joined-by set to its own username.
//  3. The hub does nothing for X but report Registered=False (NotAccepted)
//     until the admin runs `berthctl accept X` (Accept).
//  4. Once accepted, the hub registers X as any member and lets the joining
//     identity read X's `hub-kubeconfig` Secret, which `berthctl join --wait`
//     fetches (WaitForCredentials) to start the spoke.
//
// # Guard rails
//
// RBAC alone cannot stop a bootstrap identity from creating a member that
// is already accepted, so EnsurePolicy installs the ValidatingAdmissionPolicy
// berth-bootstrap-join: for bootstrap identities a MemberCluster must have
// accepted=false, no clusterRef, no taints, and a joined-by annotation equal
// to the requesting username.
package join
