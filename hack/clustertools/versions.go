package clustertools

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// Pins are the pinned versions of the cluster binaries.
type Pins struct {
	// Kube is the k8s.io/kubernetes version, e.g. v1.36.3.
	Kube string
	// KubeStaging is the matching k8s.io/* staging module version.
	KubeStaging string
	// Etcd is the go.etcd.io/etcd/server/v3 version.
	Etcd string
	// Kwok is the sigs.k8s.io/kwok version.
	Kwok string
}

// Versions returns the pins from versions.env.
func Versions() Pins {
	vals := map[string]string{}
	for line := range strings.SplitSeq(versionsEnv, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			vals[k] = v
		}
	}
	return Pins{
		Kube:        vals["KUBE_VERSION"],
		KubeStaging: vals["KUBE_STAGING_VERSION"],
		Etcd:        vals["ETCD_VERSION"],
		Kwok:        vals["KWOK_VERSION"],
	}
}

// CacheDir is $BERTH_CACHE_DIR, else ~/.cache/berth.
func CacheDir() string {
	if d := os.Getenv("BERTH_CACHE_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(os.TempDir(), "berth-cache")
	}
	return filepath.Join(home, ".cache", "berth")
}

// Binaries are absolute paths of the cached binaries.
type Binaries struct {
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Etcd                  string
	Etcdctl               string
	Kwok                  string
	Kwokctl               string
	// EnvtestAssets is a directory holding kube-apiserver and etcd, for
	// KUBEBUILDER_ASSETS.
	EnvtestAssets string
}

// ErrToolsMissing is returned by Locate when the cache is incomplete.
var ErrToolsMissing = errors.New("cluster binaries are not built")

// Locate returns the cached binaries, or an error wrapping ErrToolsMissing
// that tells the user to run `make tools`.
func Locate() (Binaries, error) {
	pins := Versions()
	bin := filepath.Join(CacheDir(), "bin")
	kube := filepath.Join(bin, "kubernetes-"+pins.Kube)
	etcd := filepath.Join(bin, "etcd-"+pins.Etcd)
	kwok := filepath.Join(bin, "kwok-"+pins.Kwok)
	for _, dir := range []string{kube, etcd, kwok} {
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
			return Binaries{}, fmt.Errorf("%w: %s is missing; run `make tools` (about 16 minutes the first time)", ErrToolsMissing, dir)
		}
	}
	b := Binaries{
		KubeAPIServer:         filepath.Join(kube, "kube-apiserver"),
		KubeControllerManager: filepath.Join(kube, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(kube, "kube-scheduler"),
		Etcd:                  filepath.Join(etcd, "etcd"),
		Etcdctl:               filepath.Join(etcd, "etcdctl"),
		Kwok:                  filepath.Join(kwok, "kwok"),
		Kwokctl:               filepath.Join(kwok, "kwokctl"),
	}
	assets, err := envtestAssets(bin, pins, b)
	if err != nil {
		return Binaries{}, err
	}
	b.EnvtestAssets = assets
	return b, nil
}

// envtestAssets links kube-apiserver and etcd into one directory, as envtest
// expects. The links are made once and are safe to recreate.
func envtestAssets(bin string, pins Pins, b Binaries) (string, error) {
	dir := filepath.Join(bin, "envtest-"+pins.Kube+"-"+pins.Etcd)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating envtest assets dir: %w", err)
	}
	for name, target := range map[string]string{"kube-apiserver": b.KubeAPIServer, "etcd": b.Etcd} {
		link := filepath.Join(dir, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		tmp := link + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return "", fmt.Errorf("linking %s: %w", name, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			return "", fmt.Errorf("linking %s: %w", name, err)
		}
	}
	return dir, nil
}
