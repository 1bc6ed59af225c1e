// Package testing has builders for placement test objects: MemberClusters
// with node pools, capabilities and latencies, ManagedServices and
// PlacementPolicies, plus a generator of synthetic fleets for benchmarks.
// Builders return the objects the API server would store; tests for the
// controllers create them against envtest.
package testing
