// Package propagation hands placed ManagedServices to the spokes, moves them
// between clusters when the placement changes, and reports back what the
// spokes did.
//
// # ServiceWorks
//
// For a ManagedService placed on cluster P with consumer cluster C the
// Reconciler writes, with server-side apply (field manager
// berth-hub-propagation):
//
//   - P == C (co-located): ONE ServiceWork in berth-member-P carrying both
//     roles, Provider and Consumer, with spec.provider.cluster P. The spoke
//     renders the service and the binding from the same work, so credentials
//     never leave the cluster.
//   - P != C (remote): a Provider ServiceWork in berth-member-P and a
//     Consumer ServiceWork in berth-member-C. The provider spoke publishes
//     the connection Secret to its hub namespace and names it in
//     status.credentialsSecret; the Reconciler copies it into berth-member-C
//     as <namespace>.<name>.<P>.credentials and names the copy, and the
//     provider's endpoint, in the consumer work's spec.provider.
//
// Works are named <namespace>.<name> of their ManagedService and labelled
// with fleet.berth.io/managedservice, because a ServiceWork lives in another
// namespace than its ManagedService and cannot have an owner reference. A
// provider work also records the decision it realises (annotations
// fleet.berth.io/placement-strategy, placement-policy and decided-at): the
// works are the hub's durable record of where the service runs (package
// controllers/internal/binding), from which the placement controller
// restores a lost status.placement.
//
// # No decision, no deletion
//
// The decision is status.placement.cluster with Placed=True. Without one
// (unplaced, Placed False, or status lost or read before the placement
// controller restored it) the Reconciler writes and deletes no ServiceWork;
// it only reports on the works as they are. Only two things delete a
// provider work: the deletion of the ManagedService (its spokes then honour
// deletionPolicy), and a completed, acknowledged move (below), or the
// cancellation of a move whose new provider no consumer ever used.
//
// # Moves
//
// The provider the consumer uses is the consumer work's
// spec.provider.cluster (the bound provider, B). When the decision D names
// another cluster (the fleet.berth.io/replace annotation, a policy change):
//
//  1. The Reconciler writes the provider work on D and keeps B's work
//     untouched; the consumer keeps B's endpoint and credentials. When D is
//     the consumer's cluster, the consumer's work gets role Provider too but
//     stays bound to B (spec.provider.cluster B), so the new provider runs
//     there while the apps still use B. When B was the consumer's cluster,
//     its work keeps both roles. D's credentials are copied ahead of time.
//  2. The ManagedService gets Moving=True: reason MoveWaitingForTarget
//     while D's work is not applied at the current generation and
//     Available=True (or, for a remote consumer, has not reported its
//     endpoint and published its credentials), then
//     MoveWaitingForAcknowledgement. The message names both clusters and
//     the annotation to set.
//  3. The move is acknowledged by the annotation
//     fleet.berth.io/accept-move: <D> on the ManagedService ("I accept an
//     empty database on D"). A value naming another cluster is ignored: the
//     Moving message and a MoveAcknowledgementIgnored Event say so. The
//     annotation may be set before D is ready.
//  4. Once D is ready and acknowledged, the consumer work switches to D:
//     spec.provider becomes D with D's endpoint and credentials copy (or the
//     local binding when D is the consumer's cluster). When B was the
//     consumer's cluster, the same write drops its Provider role, so the
//     consumer binding is never dropped. Moving=True, reason
//     MoveRemovingOldProvider; Event MoveSwitched.
//  5. Once the consumer's spoke applied the switch (its work's
//     observedGeneration is current and Applied=True), the Reconciler
//     deletes B's work (its spoke honours deletionPolicy; Retain orphans the
//     data there) and the copy of B's credentials.
//  6. When B's work is gone, Moving becomes False with reason MoveCompleted
//     and the annotation is removed.
//
// If the decision goes back to B before the switch, the move is cancelled:
// D's work, which no consumer ever used, is deleted the same way, and
// Moving becomes False with reason MoveCancelled.
//
// # Status
//
// The Reconciler owns the Propagated, Ready and Moving conditions, the
// endpoint, the ready replicas and observedGeneration of ManagedService
// status; the placement controller owns Placed and status.placement. Both
// write with server-side apply on the status subresource, so neither
// overwrites the other. Propagated covers every work the service needs (a
// move target included); Ready the works that serve the consumers (the
// bound provider's and the consumer's), so a move does not make a serving
// service unready. observedGeneration is bumped only when every work was
// applied at the ManagedService's current generation.
//
// # Quiet at rest
//
// Every write is compared first: a work is applied only when the hash of
// its desired labels, annotations, finalizers and spec differs from its
// fleet.berth.io/spec-hash annotation, a credentials copy only when its data
// differs, and status only when a field or a condition's status, reason,
// message or observedGeneration differs (lastTransitionTime moves only with
// the status). Watches pass only what matters: ManagedService changes of
// spec, annotations, deletion, finalizers, decision or the loss of this
// controller's conditions; ServiceWork changes of status, generation,
// deletion or finalizers (not the hub's own metadata applies); Secret data
// changes; and informer resyncs, which write nothing when nothing changed.
//
// # Deletion
//
// The ManagedService keeps the fleet.berth.io/managedservice finalizer
// until all its works are gone. Each work carries fleet.berth.io/servicework,
// set by the Reconciler, which it removes only once the work's spoke reports
// Removed=True (after cleaning up and honouring deletionPolicy); spokes thus
// need write access to ServiceWork status only. A deleted service is gone
// only after its spokes finished.
package propagation
