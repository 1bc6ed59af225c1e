// Package framework is berth's placement framework: the plugin interfaces,
// the registry, the profile runner and the recorded result. It is a trimmed
// version of the kube-scheduler framework: no queue, no binding cycle, no
// versioned plugin-args machinery.
//
// # Plugins
//
// Every plugin implements Plugin (a Name). A FilterPlugin says, for one
// member cluster, whether a service fits; it returns a *Status whose Code
// keeps the three outcomes apart:
//
//   - Success (or a nil *Status): the cluster fits;
//   - Unschedulable: the cluster does not fit, and the reason says why in
//     words a human can act on ("pool database: needs 4 cpu, 2.5 free");
//   - Error: the plugin broke. The whole decision fails with an error and is
//     retried; it never turns into "does not fit".
//
// A filter that is cheaper over the whole fleet at once may also implement
// BatchFilterPlugin. PreFilterPlugin runs once per decision before the
// filters, for checks that do not depend on the cluster.
//
// A ScorePlugin rates a feasible cluster. Scores end up in 0..100: either the
// plugin returns them in that range, or it implements ScoreExtensions and
// NormalizeScore maps its raw scores into it (for example the lowest latency
// gets 100). A score out of range after normalisation is an Error.
//
// # Registry and profiles
//
// A Registry maps plugin names to Factories. A Factory receives the plugin's
// args as raw JSON and returns the plugin, or an error that names the bad
// field relative to the args ("args.allowUnknown: must be a boolean");
// DecodeArgs does the strict decoding and produces such errors. A
// ProfileConfig lists the filters in order and the scorers with their
// weights; New builds a Framework from it.
//
// # Running
//
// Framework.Run takes a Service (the ManagedService plus the figures derived
// from it once) and a Snapshot of the fleet, and returns a Result. Run visits
// members in name order; for each member it records the first filter that
// rejected it (later filters are recorded as skipped) and, for feasible
// members, every scorer's raw, normalised and weighted score. The total is
// the weighted sum; feasible candidates are ordered by total, highest first,
// and ties go to the cluster whose name sorts first. The same inputs always
// give the same Result, whatever order the members were listed in.
//
// Result.Decision converts a Result into the API's PlacementDecision with
// the top N candidates, feasible ones first.
//
// # Fleet snapshot
//
// A Snapshot holds the member clusters in a form the plugins read fast:
// parsed node-pool capacity in milli-CPU and bytes, an operator bit set,
// the taints split by effect, and an index of measured latencies. Snapshots
// are read-only, except for Assume, which books a placement into the
// snapshot for simulations and benchmarks.
package framework
