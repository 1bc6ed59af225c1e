#!/usr/bin/env bash
# Builds the local fleet's control-plane binaries from the Go module proxy into
# a cache outside the repository:
#
#   $BERTH_CACHE_DIR (default ~/.cache/berth)/bin/<component>-<version>/<binary>
#
# Each component is built into a temporary directory and renamed into place
# only when complete, so an interrupted run never leaves a half-built binary
# that a later run mistakes for a finished one. Components already present are
# skipped, so a warm run takes well under a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${here}/versions.env"

cache="${BERTH_CACHE_DIR:-${HOME}/.cache/berth}"
bin="${cache}/bin"
src="${cache}/src"
mkdir -p "${bin}" "${src}"

export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
start_all=$(date +%s)

log() { printf '[tools %4ds] %s\n' "$(( $(date +%s) - start_all ))" "$*"; }

# build_component NAME VERSION -- builds into ${bin}/NAME-VERSION via the
# function build_NAME, which receives the temporary output directory.
build_component() {
  local name="$1" version="$2"
  local dest="${bin}/${name}-${version}"
  if [[ -f "${dest}/.complete" ]]; then
    log "${name} ${version}: cached in ${dest}"
    return
  fi
  local tmp="${bin}/.${name}-${version}.tmp.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  trap 'rm -rf "${tmp}"' EXIT
  local t0; t0=$(date +%s)
  log "${name} ${version}: building (this is the slow part on a cold cache)"
  "build_${name}" "${tmp}"
  touch "${tmp}/.complete"
  rm -rf "${dest}"
  mv "${tmp}" "${dest}"
  trap - EXIT
  log "${name} ${version}: done in $(( $(date +%s) - t0 ))s"
}

# A throwaway module per component pins exactly one version and, for
# Kubernetes, replaces the staging modules with their published versions.
wrapper_module() {
  local dir="$1" require="$2"
  mkdir -p "${dir}"
  cat >"${dir}/go.mod" <<MOD
module berth.local/toolbuild

go 1.26.0

require ${require}
MOD
}

build_kubernetes() {
  local out="$1" dir="${src}/kubernetes-${KUBE_VERSION}"
  wrapper_module "${dir}" "k8s.io/kubernetes ${KUBE_VERSION}"
  # Every k8s.io/* module that k8s.io/kubernetes replaces with ./staging/...
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client cri-streaming csi-translation-lib
    dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
    pod-security-admission sample-apiserver sample-controller streaming)
  {
    echo "replace ("
    for m in "${staging[@]}"; do echo "	k8s.io/${m} => k8s.io/${m} ${KUBE_STAGING_VERSION}"; done
    echo ")"
  } >>"${dir}/go.mod"
  local major minor
  major="$(echo "${KUBE_VERSION#v}" | cut -d. -f1)"
  minor="$(echo "${KUBE_VERSION#v}" | cut -d. -f2)"
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  done
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    log "  go build k8s.io/kubernetes/cmd/${cmd}"
    (cd "${dir}" && go build -trimpath -ldflags "${ldflags}" -o "${out}/${cmd}" "k8s.io/kubernetes/cmd/${cmd}")
  done
}

build_etcd() {
  local out="$1" dir="${src}/etcd-${ETCD_VERSION}"
  wrapper_module "${dir}" "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
require go.etcd.io/etcd/etcdctl/v3 ${ETCD_VERSION}"
  log "  go build go.etcd.io/etcd/server/v3 (etcd)"
  (cd "${dir}" && go build -trimpath -ldflags "-s -w" -o "${out}/etcd" go.etcd.io/etcd/server/v3)
  log "  go build go.etcd.io/etcd/etcdctl/v3 (etcdctl)"
  (cd "${dir}" && go build -trimpath -ldflags "-s -w" -o "${out}/etcdctl" go.etcd.io/etcd/etcdctl/v3)
}

build_kwok() {
  local out="$1" dir="${src}/kwok-${KWOK_VERSION}"
  wrapper_module "${dir}" "sigs.k8s.io/kwok ${KWOK_VERSION}"
  local ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}"
  for cmd in kwok kwokctl; do
    log "  go build sigs.k8s.io/kwok/cmd/${cmd}"
    (cd "${dir}" && go build -trimpath -ldflags "${ldflags}" -o "${out}/${cmd}" "sigs.k8s.io/kwok/cmd/${cmd}")
  done
}

components=("$@")
if [[ ${#components[@]} -eq 0 ]]; then components=(kwok etcd kubernetes); fi
for c in "${components[@]}"; do
  case "${c}" in
    kubernetes) build_component kubernetes "${KUBE_VERSION}" ;;
    etcd) build_component etcd "${ETCD_VERSION}" ;;
    kwok) build_component kwok "${KWOK_VERSION}" ;;
    *) echo "build.sh: unknown component ${c} (want kubernetes, etcd or kwok)" >&2; exit 2 ;;
  esac
done
log "all tools ready in ${bin}"
