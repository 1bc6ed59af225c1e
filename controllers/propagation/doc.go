// Package propagation hands placed ManagedServices to the spokes and reports
// back what they did.
//
// # ServiceWorks
//
// For a ManagedService placed on cluster P with consumer cluster C the
// Reconciler writes, with server-side apply (field manager berth-hub):
//
//   - P == C (co-located): ONE ServiceWork in berth-member-P carrying both
//     roles, Provider and Consumer. The spoke renders the service and the
//     binding from the same work, so credentials never leave the cluster.
//   - P != C (remote): a Provider ServiceWork in berth-member-P and a
//     Consumer ServiceWork in berth-member-C. The provider spoke publishes
//     the connection Secret to its hub namespace and names it in
//     status.credentialsSecret; the Reconciler copies it into berth-member-C
//     and names the copy, and the provider's endpoint, in the consumer
//     work's spec.provider.
//
// Works are named <namespace>.<name> of their ManagedService and labelled
// with fleet.berth.io/managedservice, because a ServiceWork lives in another
// namespace than its ManagedService and cannot have an owner reference.
//
// # Status
//
// The Reconciler owns the Propagated and Ready conditions, the endpoint, the
// ready replicas and observedGeneration of ManagedService status; the
// placement controller owns Placed and status.placement. Both write with
// server-side apply on the status subresource, so neither overwrites the
// other. observedGeneration is bumped only when every work was applied at
// the ManagedService's current generation.
//
// # Deletion
//
// The ManagedService keeps the fleet.berth.io/managedservice finalizer
// until all its works are gone. Each work carries fleet.berth.io/servicework,
// set by the Reconciler, which it removes only once the work's spoke reports
// Removed=True (after cleaning up and honouring deletionPolicy); spokes thus
// need write access to ServiceWork status only. A deleted service is gone
// only after its spokes finished. Works of a service that moved to another
// cluster are deleted the same way.
package propagation
