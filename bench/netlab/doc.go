// Package netlab builds small networks out of Linux network namespaces, veth
// pairs and bridges, runs processes inside them, and tears all of it down
// again. The data-path benchmark uses it to stand up "clusters" without
// Docker.
//
// # Naming and ownership
//
// Every namespace a Lab creates is named berth-bench-<pid>-<role>, where pid
// is the process that owns the lab. Nothing is created in the host's own
// network namespace: bridges live in a namespace of their own, and veth pairs
// are created directly inside their namespaces (ip -n). Deleting the
// namespaces therefore removes every interface, bridge and address.
//
// # Cleanup
//
// Lab.Close kills the processes the lab started and every other process
// still inside one of its namespaces, deletes the namespaces and removes the
// lab's working directory. New removes leftovers of earlier labs whose owner
// process is gone (a crash, a kill -9, a test binary that timed out); labs of
// live processes are left alone, so two runs can coexist.
//
// # Talking into a namespace from Go
//
// NetNS.Do runs a function on an OS thread that has joined the namespace
// (setns), so sockets created there belong to it; NetNS.DialContext and
// NetNS.Listen build on it and plug into client libraries' dial hooks.
// Servers are started with `ip netns exec`.
//
// # Requirements
//
// Root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2. New refuses with
// ErrNotRoot otherwise.
package netlab
