// Package v1alpha1 holds the berth fleet API, group fleet.berth.io, version
// v1alpha1. It contains types only: no clients, no controllers.
//
// # Kinds
//
//   - MemberCluster (cluster-scoped, short name mc): one registered cluster,
//     its role, its taints, and what its spoke reports (node pools,
//     capabilities, latency to peers).
//   - ManagedService (namespaced, short name ms): one PostgreSQL, Redis or
//     RabbitMQ service requested by an application team, where it was placed
//     and how ready it is.
//   - PlacementPolicy (cluster-scoped): a named placement profile, a base
//     strategy plus filter and weighted score plugins.
//   - ServiceWork (namespaced, in a member's hub namespace): what one spoke
//     must realise for one ManagedService.
//
// # Validation
//
// Every rule that can be checked from a single object is in the schema as
// OpenAPI or CEL (see the kubebuilder markers). Rules that need other objects
// are enforced by controllers and reported in conditions; the one that
// matters most is that at most one PlacementPolicy has spec.default set.
//
// # Conditions
//
// Status conditions are []metav1.Condition. Their types and reasons are the
// exported constants in conditions.go.
//
// +kubebuilder:object:generate=true
// +groupName=fleet.berth.io
package v1alpha1
