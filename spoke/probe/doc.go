// Package probe measures the round-trip time between spokes.
//
// # Server
//
// Every spoke serves a TCP echo endpoint (Server). It writes back what it
// reads and nothing else. A connection is closed when it has been idle for
// IdleTimeout or has echoed MaxBytesPerConn bytes, and at most MaxConns
// connections are served at once; further ones are closed at accept. The
// address peers should dial is published in MemberCluster
// status.probeEndpoint (see Advertise). When no address can be determined
// (a wildcard listener, no --probe-advertise and no POD_IP), the spoke still
// runs but publishes no endpoint, so no peer probes it.
//
// # Prober
//
// The Prober runs rounds every Interval. A round reads the peer list (the
// hub's `peers` ConfigMap: member name -> host:port), takes at most
// MaxPeersPerRound peers in a rotating order, and for each dials once and
// sends PingsPerPeer fixed-size pings, timing each write->echo exchange. The
// whole exchange with one peer (dial included) is bounded by Timeout, and at
// most Concurrency peers are probed at the same time. The prober dials only
// addresses from the peer list; entries whose name or address is invalid are
// skipped and logged.
//
// # Figures
//
// Each peer keeps a window of its last WindowSize samples; samples older than
// SampleTTL are dropped, and a peer without fresh samples is no longer
// reported. P50 and P99 use the nearest-rank method (Percentile). To keep
// status writes rare, a peer's published figures are replaced only when p50
// or p99 moved by more than ChangeThreshold, or the published figures are
// older than Refresh (see Stabilize).
package probe
