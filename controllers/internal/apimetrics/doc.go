// Package apimetrics reads the request counters of a kube-apiserver
// (apiserver_request_total on its /metrics endpoint), so that tests can
// assert what a controller writes, or that it writes nothing at rest.
//
// The counters are per verb and resource. Mutating verbs are POST, PUT,
// PATCH, APPLY (server-side apply), DELETE and DELETECOLLECTION. Leases are
// left out: they are heartbeats every control plane renews whatever the
// controllers do.
package apimetrics
