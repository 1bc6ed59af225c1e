// Package binding reads the hub's durable record of where a ManagedService
// runs from its ServiceWorks.
//
// # Why
//
// ManagedService status can be lost (a restore without status, a wipe) or
// read stale. The decision a service runs under must survive that, as
// Karmada keeps its decision in ResourceBinding.spec. In berth the record is
// the service's ServiceWorks, which live in the hub's etcd and carry only
// spec:
//
//   - a work with role Provider in berth-member-X says the service runs on X;
//     its annotations fleet.berth.io/placement-strategy, placement-policy and
//     decided-at record the rest of the decision;
//   - the consumer's work (role Consumer, in the consumer cluster's hub
//     namespace) names in spec.provider.cluster the provider its apps use:
//     the bound provider.
//
// While a service moves, two members carry role Provider: the bound one and
// the move target. Read returns both, and Recorded the decision to restore
// when status.placement is empty: the move target's when a move is under way
// (so the move keeps waiting exactly where it was), else the bound
// provider's.
//
// # Index
//
// IndexServiceRef indexes ServiceWorks by the ManagedService they realise, so
// controllers find a service's works without scanning all of them.
package binding
