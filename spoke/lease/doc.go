// Package lease keeps the spoke's heartbeat on the hub.
//
// # Contract
//
// The heartbeat is a coordination.k8s.io/v1 Lease named `spoke` in the
// member's hub namespace, with holderIdentity set to the member's name and
// leaseDurationSeconds to the configured duration. The Renewer sets
// renewTime every duration/3, so two renewals can be lost before the hub
// sees a Lease older than its duration. The hub judges freshness; the spoke
// only renews.
//
// # Failures
//
// Every call is bounded by the lease duration, so a hung connection cannot
// stall the heartbeat. A failed renewal is retried with a capped exponential
// backoff (package backoff) until the hub answers again; the Renewer never
// gives up and never deletes the Lease. It needs get, create and update on
// leases in its namespace: it never lists or watches.
package lease
