// Package e2e runs berth end to end: a hub and one spoke per member, against
// a fleet of real control planes, through a Provider.
//
// # Providers
//
//   - kwok (the default, and what CI runs): the local fleet of
//     e2e/framework, real kube-apiserver, kube-controller-manager,
//     kube-scheduler and etcd with kwok nodes. kwok pods run no containers,
//     so the hub and the spokes run as host processes built from ./cmd; each
//     spoke uses exactly the hub kubeconfig the hub generated for its member
//     (read from berth-system/hub-kubeconfig in the member, where the hub
//     installed it).
//   - kind (BERTH_E2E_PROVIDER=kind, on a machine with Docker): creates the
//     mgmt, workload-1 and services-1 kind clusters with the kind Go library,
//     builds and loads berth's images and installs from deploy/.
//
// The same test code serves both: tests receive an *Env with a client per
// cluster and act only through the Kubernetes API, plus Env.KillHub,
// Env.StartHub, Env.StopSpoke and Env.StartSpoke for failure tests.
//
// Members start without database operators, so the spoke renders the
// built-in flavour. Controls.InstallOperators(member) installs the Zalando,
// Spotahome and RabbitMQ operators into one member and, on kwok, runs their
// emulators (e2e/framework/operators) until Down; the kind provider refuses
// it, since real operators must be installed there.
//
// # Suites
//
// `make test` runs the short suite (flow_test.go): registration of the
// default fleet and one service per strategy reaching Ready. `make e2e` adds
// the files behind build tag e2e: every engine, capacity and taint changes,
// cluster deletion, a hub SIGKILL mid-rollout and a spoke cut off from the
// hub.
package e2e
