// Package clustertools locates the control-plane binaries the local fleet and
// envtest run: kube-apiserver, kube-controller-manager, kube-scheduler, etcd,
// kwok and kwokctl.
//
// # Building
//
// build.sh (run by `make tools`) builds them from the Go module proxy, at the
// versions pinned in versions.env, into a cache outside the repository:
//
//	$BERTH_CACHE_DIR (default ~/.cache/berth)/bin/<component>-<version>/
//
// A component directory is complete when it holds a .complete marker;
// build.sh writes into a temporary directory and renames it, so an
// interrupted build is never mistaken for a finished one.
//
// # Using
//
// Go code reads the same pins through Pins (versions.env is embedded) and
// finds the binaries with Locate, which fails with one clear error naming
// `make tools` when the cache is missing.
package clustertools
