// Package report turns benchmark results (package results) into a
// reproducible report: one markdown file with tables, SVG plots beside it,
// and the raw JSON it was made from.
//
// # Contents
//
//   - The machine and the versions of every server, proxy and client
//     library, and each run's link profile and settings, so a reader can
//     reproduce the numbers.
//   - Data path, per link profile: the decision record's drivers as rows
//     (single-request latency, chatty-transaction cost, throughput) against
//     the placements as columns, each with its ratio to the same-namespace
//     baseline; then a full table per engine (p50, p90, p99, p99.9, max,
//     ops/s and the harness noise), and a latency CDF plot per engine with
//     one line per placement. Skipped engines are listed with the reason.
//   - Control path, when present: placement micro-benchmarks, propagation
//     and registration latency against the number of members (with a plot),
//     and hub memory.
//   - Blast radius, when present.
//
// # Plots
//
// Plots are drawn with gonum.org/v1/plot into SVG. A CDF is read straight
// from the measurement's HDR histogram, on a logarithmic latency axis.
package report
