// Package results is the schema of berth's benchmark results: what
// `berthctl bench` writes as raw JSON and what `berthctl bench report`
// reads. It has no measuring code of its own.
//
// # Documents
//
// A Document is one results file. It states the machine and the versions it
// was measured with and holds any of the sections:
//
//   - DataPlane: one DataPlaneRun per link profile, each with one
//     EngineResult per engine (PostgreSQL, Redis, RabbitMQ) holding a
//     Measurement per placement and scenario;
//   - ControlPlane: placement micro-benchmarks, propagation and
//     registration latency against the number of members, and hub memory;
//   - BlastRadius: which apps lost their service during an outage, and for
//     how long.
//
// Producers fill only their own section; the report merges every document
// in a directory, so the data path, control path and blast radius can be
// measured by separate commands at separate times.
//
// # Latencies
//
// Latencies are microseconds. Each Measurement carries its Summary and the
// full HDR histogram in the standard compressed, base64 encoding
// (hdrhistogram-go's Encode), so percentiles not in the summary can be
// recomputed and histograms merged later.
package results
