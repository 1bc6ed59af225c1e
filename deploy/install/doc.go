// Package install renders the Helm chart deploy/charts/berth with the helm
// pinned in hack/tools/go.mod and applies what it renders with server-side
// apply. The e2e tests (the install test on the local fleet, the kind
// provider) install berth through it exactly as a platform team would with
// `helm template | kubectl apply --server-side`.
//
// It also holds the values those installs use: HubValues for a hub whose
// spokes reach it at a given URL, and KindHubServer, the URL at which kind
// nodes reach the management cluster's apiserver.
package install
