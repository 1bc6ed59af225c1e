// Package framework is berth's test support: it starts real control planes
// for integration and end-to-end tests.
//
// # Envtest
//
// StartEnvtest runs one kube-apiserver and etcd from the tools cache (see
// hack/clustertools) with berth's CRDs (deploy/crds) and the Cluster API
// core/v1beta2 CRDs (testdata/capi-crds, generated from
// sigs.k8s.io/cluster-api/api by `make generate`) installed. Packages start it
// once from TestMain, or through RunSuite with a manager. WriteKubeconfig
// gives a process of its own (berth-hub in the control-path bench) an admin
// kubeconfig for it.
//
// # Local fleet
//
// StartFleet (StartTestFleet in tests) runs N named clusters through kwokctl's
// binary runtime with only the cached binaries, on loopback ports, each with
// node pools of kwok nodes (labels node.berth.io/pool and nodeType, taints,
// allocatable resources); the real kube-scheduler and kube-controller-manager
// run, and kwok simulates pods. With FleetSpec.CAPI set, every cluster is
// registered in the management cluster as a CAPI v1beta2 Cluster with a
// <name>-kubeconfig Secret. A fleet lives in <cache>/fleets/<name>; Stop
// removes its processes and files, and the next StartFleet removes fleets
// whose starting process died. DevFleetSpec is the fleet of `berthctl dev`.
//
// # Host processes
//
// BuildBinaries builds berth's commands from this checkout; StartHostProcess
// runs one with its output in a log file, in its own process group and
// killed with its parent, which is how the e2e kwok provider runs the hub
// and the spokes and the control-path bench runs berth-hub.
package framework
