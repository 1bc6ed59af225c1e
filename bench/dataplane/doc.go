// Package dataplane measures what each placement of a managed service costs
// the app that calls it: the data path of issue 7.
//
// # Topology
//
// Every "cluster" is a set of network namespaces (package netlab), with a
// bridge as its cluster network:
//
//	workload cluster (10.201.1.0/24)       management cluster (10.201.2.0/24)
//	  wl-app ──┐                              ┌── mgmt-svc (servers)
//	  wl-svc ──┼─ br0 ── mgmt-link ── mgmt-gw ┴ br0
//	           │         (delay)     (HAProxy)
//	           └──────── svcs-link ── svcs-gw ─ br0 ── svcs-svc (servers)
//	                                            services cluster (10.201.3.0/24)
//
// The app reaches the management and services clusters only through their
// link and gateway: it has a route to the gateways' ingress addresses via
// the link namespaces and none to the clusters' own networks. The gateway
// is a real HAProxy in TCP mode, standing in for the TCP ingress or
// LoadBalancer the decision record names. The link adds the profile's
// one-way latency and jitter per direction (package linkemu): kernel netem
// where the kernel has it, otherwise a user-space relay in the link
// namespace; profile 0 routes plainly.
//
// # Placements
//
//   - Baseline: client and server in the same namespace (wl-svc, loopback).
//   - Workload: app to the co-located server across the workload bridge.
//   - Management and Dedicated: app, link, gateway, server.
//
// Every ratio in the results is relative to Baseline.
//
// # Servers and probes
//
// redis-server, PostgreSQL (initdb into the lab's directory, run as the
// postgres user) and RabbitMQ come from Debian's packages
// (hack/bench/setup.sh installs them); each runs once per cluster. An
// engine that cannot start is skipped, with the reason in the results.
// Probes use the real client libraries (go-redis, pgx, amqp091-go) dialing
// from inside the namespaces:
//
//   - rtt: one request at a time (GET, SELECT 1, publish with confirm);
//   - chatty: one transaction of sequential round trips (20 GETs, a
//     10-statement transaction, 10 confirmed publishes);
//   - throughput: single requests over a fixed number of connections.
//
// Each measurement warms up, then runs until MaxOps or Duration; repeats
// interleave the placements. Latencies go into HDR histograms; the noise
// figure is the coefficient of variation over the repeats.
//
// # Cleanup
//
// Run tears everything down when it returns, also on cancellation (Ctrl-C
// in berthctl cancels the context), and removes leftovers of crashed runs
// when it starts.
package dataplane
