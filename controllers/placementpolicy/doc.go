// Package placementpolicy holds the controller that validates
// PlacementPolicies and sets their Accepted condition.
//
// # Accepted
//
// A policy is Accepted (reason Valid) when its plugins exist in the hub's
// registry, their args decode, its weights and fallback chain are sound, and
// it keeps the StrategyRole filter. Otherwise it is Accepted=False with
// reason PolicyInvalid and every problem in the message, each naming its
// field ("spec.filters[1].name: unknown plugin \"Foo\"").
//
// # At most one default
//
// The schema cannot compare objects, so this controller enforces that at
// most one policy is the default: while several policies set spec.default,
// each of them is Accepted=False with reason MultipleDefaults, and the
// placement controller uses none of them (services without a policyRef get
// the built-in profiles). Any change to a policy re-validates every default
// policy.
package placementpolicy
