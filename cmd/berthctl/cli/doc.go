// Package cli is berthctl's command tree: the commands a platform team runs
// against a berth hub. cmd/berthctl is its thin main; the dev tooling
// (cmd/berth-dev) reuses its tables.
//
// # Commands
//
//   - get members|services: tables like kubectl's (-o wide), or the objects
//     as -o json, yaml, name or jsonpath=<template>; names complete from the
//     hub;
//   - explain NAMESPACE/NAME: where a ManagedService was placed and why;
//   - join, join token, accept: manual join of clusters that Cluster API
//     does not manage;
//   - version: berthctl's version and the hub apiserver's.
//
// # Which hub
//
// get, explain and version take kubectl's connection flags (--kubeconfig,
// --context, -n, --cluster, --user, --server, --token, --as, ...). The hub
// is, in this order: the local fleet named by --fleet when that flag is
// given; the kubeconfig of the flags, else $KUBECONFIG, else ~/.kube/config;
// and only when no kubeconfig exists at all, the local development fleet
// ("dev", started by `make demo`) when it runs. An explicit or ambient
// kubeconfig therefore always wins over a development fleet.
//
// # As a kubectl plugin
//
// kubectl runs any executable named kubectl-<name> on the PATH as
// `kubectl <name>`. A link kubectl-berth -> berthctl makes berthctl
// `kubectl berth`; main tells from argv[0] and names itself so in help.
// A link kubectl_complete-berth -> berthctl gives kubectl's shell completion
// (kubectl 1.26+) berthctl's completions.
//
// # What it links
//
// Nothing of the test harness: no envtest, no package testing, no e2e
// framework, no benchmarks (cmd/berthctl's tests check `go list -deps`).
// The local fleet is found by reading its state file, not through the
// fleet code.
package cli
