// Package kubeconfig builds and checks the kubeconfigs berth hands around:
// the spoke's hub kubeconfig (a bound ServiceAccount token for the hub
// apiserver) and the Cluster API `<name>-kubeconfig` Secrets the hub reads to
// reach member clusters.
//
// # Building
//
// ForToken returns a kubeconfig with one cluster, one user and one context,
// authenticating with a bearer token. The hub writes it into the Secret
// `hub-kubeconfig` (key `kubeconfig`) of each member's hub namespace.
//
// # Checking
//
// FromCAPISecret reads key `value` of a CAPI kubeconfig Secret and returns a
// rest.Config, or an error that names what is wrong (missing key, unparsable
// YAML, no current context, no server). The registration controller turns
// that error into an Event on the Cluster.
package kubeconfig
