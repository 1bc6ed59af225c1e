// Package placement holds the placement controller: it decides which
// member cluster runs each ManagedService and records why.
//
// # What it does
//
// For each ManagedService the Reconciler resolves the PlacementPolicy
// (spec.placement.policyRef; else the default policy, when exactly one
// policy sets spec.default, it compiles, and its strategy is the service's;
// else the built-in profile of the service's strategy), runs the decision
// with placement.Placer over a snapshot of the MemberClusters, and writes:
//
//   - status.placement: the cluster, strategy, policy, score, decision
//     time, the better candidate if any, and the top candidates with their
//     per-plugin scores or the reason they were filtered out;
//   - the Placed condition: True with reason Scheduled or Fallback, or False
//     with reason Unschedulable (the reasons, per filter), PolicyNotFound or
//     PolicyInvalid.
//
// It writes nothing else: status is written with server-side apply under the
// field manager "berth-placement", so the Propagated and Ready conditions,
// the endpoint and observedGeneration stay with the propagation controller.
// Events record every new decision, every change of reason, re-placements
// and better candidates.
//
// # Sticky placement
//
// A placed service keeps its cluster while the cluster exists, even when it
// no longer passes the filters. When the cluster is gone it still keeps it:
// draining a deleted member is not placement's business; the Placed message
// and a ClusterGone Event say so. The controller re-evaluates placed services
// every RefreshInterval only to refresh the candidates and
// status.placement.betterCandidate. The fleet.berth.io/replace annotation
// asks for a new decision; the controller removes it once acted upon and
// records an Event with its value. A new cluster only starts a move: the
// propagation controller keeps the old provider until the move is complete
// and acknowledged (fleet.berth.io/accept-move, see package propagation).
//
// # The decision outside status
//
// Status can be lost (a restore without status, a wipe). The decision a
// service runs under is also recorded in the hub's etcd, in its provider
// ServiceWork (package controllers/internal/binding): the work's hub
// namespace names the cluster, its annotations the strategy, policy and
// decision time. When status.placement.cluster is empty the Reconciler reads
// that record (during a move, the move target's) and keeps it, exactly as
// it keeps a placed service; the Placed message says the decision was
// restored, a PlacementRestored Event and the result "restored" of
// berth_placement_decisions_total record it. A policy that is missing or
// invalid meanwhile does not unplace the service either. An update that
// removes status.placement.cluster or the Placed condition triggers the
// restoration at once.
//
// # Watches
//
// MemberCluster and PlacementPolicy changes re-enqueue only the services
// that are not placed (and those naming the changed policy): a member
// change never moves a placed service.
//
// # Metrics
//
// On controller-runtime's metrics registry:
//
//   - berth_placement_decisions_total{strategy,result}: decisions, result
//     being scheduled, fallback, unschedulable, replaced, replace_failed,
//     kept, cluster_gone, restored or error;
//   - berth_placement_decision_duration_seconds{strategy}: time to run one
//     strategy's profile over the fleet;
//   - berth_placement_unschedulable_total{plugin}: unschedulable decisions
//     by the filter plugin that rejected the most promising cluster (the
//     one that passed the most filters), once per strategy tried.
package placement
