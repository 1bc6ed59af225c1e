// Package linkemu emulates the inter-cluster link of the data-path benchmark:
// a configurable one-way latency with jitter.
//
// # Two ways to delay
//
// Where the kernel has the netem queueing discipline, NetemAvailable reports
// it and the link is delayed in the kernel (`tc qdisc ... netem delay`) on
// both interfaces of the link namespace, so each direction gets the one-way
// delay.
//
// This benchmark's usual kernel has no netem. Relay then delays in user
// space: a TCP relay that timestamps every chunk it reads and writes it out
// one delay (plus jitter) later. It keeps the byte order of each direction
// (a chunk never overtakes the one before it), and it pipelines: chunks in
// flight are delayed concurrently, as on a wire, not one after another. The
// writer waits on a timerfd through Go's network poller, because Go's own
// timers round sub-millisecond waits up to about a millisecond and a
// blocking sleep would hold one of the runtime's few Ps. The relay's own cost (one more user-space hop, about tens of
// microseconds) is part of what the benchmark measures for the
// cross-cluster placements; profile 0 uses no relay at all.
//
// Toxiproxy's latency toxic was the other candidate; it sleeps with Go
// timers and so cannot hold a 0.5 ms delay.
package linkemu
