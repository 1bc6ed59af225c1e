// Package bench holds berth's benchmarks, which compare the three placements
// of a managed service (Workload, Management, Dedicated) with numbers. It has
// no code of its own; the work is in its subpackages:
//
//   - results: the JSON schema every benchmark writes and the report reads.
//   - netlab: network namespaces, veth pairs, bridges and processes in them.
//   - linkemu: the emulated inter-cluster link (netem or a user-space relay).
//   - dataplane: the data path: real Redis, PostgreSQL and RabbitMQ servers
//     per cluster, HAProxy gateways, and probes with the real client libraries.
//   - report: the markdown report, SVG plots and raw JSON.
//
// # Running
//
//	hack/bench/setup.sh                                 # once, as root: the servers from apt
//	sudo berthctl bench dataplane --profile 0,0.5ms --out bench/out
//	berthctl bench report --in bench/out                # re-render report.md and the plots
//
// The data path needs root for its network namespaces and removes all of them
// when it ends, also on Ctrl-C. `make test` runs a smoke version
// (bench/dataplane TestSmoke: Redis and PostgreSQL, tiny measurements, both
// link profiles) that asserts the 0.5 ms link's round trip shows up in the
// measured latency.
//
// # Adding the control path
//
// A control-path benchmark fills results.Document.ControlPlane (propagation
// and registration latency against members, hub memory, placement
// micro-benchmarks) and writes its own JSON file into the same directory; the
// report merges every *.json there and renders the section, with a plot of
// latency against members.
package bench
