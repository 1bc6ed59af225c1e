// Package bench holds berth's benchmarks, which compare the three placements
// of a managed service (Workload, Management, Dedicated) with numbers. Its
// only code is FieldError, the invalid-option error every benchmark returns
// (Field is the berthctl flag's name, so the command names the flag); the
// work is in its subpackages:
//
//   - results: the JSON schema every benchmark writes and the report reads.
//   - netlab: network namespaces, veth pairs, bridges and processes in them.
//   - linkemu: the emulated inter-cluster link (netem or a user-space relay).
//   - dataplane: the data path: real Redis, PostgreSQL and RabbitMQ servers
//     per cluster, HAProxy gateways, and probes with the real client
//     libraries; and the blast radius: apps at every placement while the
//     management gateway or the management control plane (a real etcd and
//     kube-apiserver) is stopped.
//   - controlplane: registration and propagation latency and the hub's
//     memory and CPU against the number of members (10, 100, 1000): the
//     real berth-hub on a fresh kube-apiserver per size, spokes simulated
//     in-process with the credentials the hub issues.
//   - report: the markdown report, SVG plots and raw JSON.
//
// # Running
//
//	hack/bench/setup.sh                                 # once, as root: the servers from apt
//	sudo berthctl bench dataplane --profile 0,0.5ms --out bench/out
//	sudo berthctl bench blastradius --out bench/out     # needs `make tools` for the control plane
//	berthctl bench controlplane --members 10,100,1000 --out bench/out  # needs `make tools`
//	berthctl bench report --in bench/out                # re-render report.md and the plots
//
// The data path needs root for its network namespaces and removes all of them
// when it ends, also on Ctrl-C. `make test` runs a smoke version
// (bench/dataplane TestSmoke: Redis and PostgreSQL, tiny measurements, both
// link profiles) that asserts the 0.5 ms link's round trip shows up in the
// measured latency, and a blast-radius smoke (bench/dataplane
// TestBlastRadiusSmoke: Redis, a one-second outage) that asserts the
// Workload and Dedicated apps keep serving while the management gateway is
// down and the Management app does not.
//
// The control path needs no root; its smoke (bench/controlplane TestSmoke:
// fleets of 3 and 4 members, 6 services) runs in `make test` too.
//
// # Adding a benchmark
//
// Each benchmark fills its part of a results.Document (DataPlane,
// ControlPlane or BlastRadius) and writes its own JSON file into the output
// directory; the report merges every *.json there and renders each section.
package bench
