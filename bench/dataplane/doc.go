// Package dataplane measures what each placement of a managed service costs
// the app that calls it, and which apps an outage of the management cluster
// takes down: the data path and the blast radius of issue 7.
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
// # Blast radius
//
// RunBlastRadius (`berthctl bench blastradius`) builds the same topology,
// starts the chosen engines' servers (Redis by default) and runs one app
// per engine and placement (Workload, Management, Dedicated), all in
// wl-app. Each app sends a request every 5 ms over one connection of the
// real client, bounds it with a timeout (200 ms; sockets are closed under
// the client when it passes) and reconnects after every failure, so every
// outcome is one timestamped sample. Two experiments follow, each waiting
// until every app has answered for 250 ms in a row before the stop:
//
//   - gateway: the management gateway's HAProxy is SIGKILLed and, after the
//     outage, started again with the same configuration;
//   - controlplane: a real etcd and kube-apiserver (the `make tools`
//     binaries, package hack/clustertools) run in a namespace of their own,
//     mgmt-cp (10.201.2.10), on the management cluster's network; both are
//     SIGKILLed and, after the outage, restarted on the same data.
//
// After the restart the probes keep going until every app has answered
// for 250 ms again (bounded, default 90 s). Per app the results hold lost
// service yes/no, the downtime (first failed request to the first
// successful one after the last failure), failed and total requests, the
// time from the stop to the first failure and from the restart to the
// recovery. A probe of the stopped component itself (a request through
// HAProxy from inside the gateway namespace; GET /readyz from inside
// mgmt-cp) is recorded the same way, so the results show the outage
// happened whatever the apps saw. Nothing in the data path is asserted to
// be independent of the control plane: it is measured.
//
// # Cleanup
//
// Run and RunBlastRadius tear everything down when they return, also on
// cancellation (Ctrl-C in berthctl cancels the context), and remove
// leftovers of crashed runs when they start.
package dataplane
