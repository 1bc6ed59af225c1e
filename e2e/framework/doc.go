// Package framework is berth's test support: it starts real control planes
// for integration and end-to-end tests.
//
// # Envtest
//
// StartEnvtest runs one kube-apiserver and etcd from the tools cache (see
// hack/clustertools) with berth's CRDs (deploy/crds) and the Cluster API
// core/v1beta2 CRDs (testdata/capi-crds, generated from
// sigs.k8s.io/cluster-api/api by `make generate`) installed. Packages start it
// once from TestMain.
package framework
