#!/usr/bin/env bash
# Installs the servers the data-path benchmark runs (redis-server, PostgreSQL,
# HAProxy, RabbitMQ) from Debian's packages, and stops the services the
# packages start by themselves: the benchmark starts its own instances inside
# its network namespaces. Idempotent: a second run installs nothing.
#
# Usage: hack/bench/setup.sh            (as root)
#        BENCH_SKIP_RABBITMQ=1 hack/bench/setup.sh   (leave RabbitMQ out; it pulls in Erlang, ~100 MB)
set -euo pipefail

if [[ ${EUID} -ne 0 ]]; then
  echo "hack/bench/setup.sh: must run as root (it installs Debian packages with apt-get)" >&2
  exit 1
fi

pkgs=(iproute2 util-linux procps redis-server postgresql haproxy)
if [[ -z ${BENCH_SKIP_RABBITMQ:-} ]]; then
  pkgs+=(rabbitmq-server)
fi

need=()
for pkg in "${pkgs[@]}"; do
  dpkg -s "${pkg}" >/dev/null 2>&1 || need+=("${pkg}")
done

if [[ ${#need[@]} -gt 0 ]]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packages' own services from starting during the install
  # where the init system honours it; they are stopped below either way.
  had_policy=0
  [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
  if [[ ${had_policy} -eq 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  trap '[[ ${had_policy} -eq 0 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "setup: ${pkgs[*]} already installed"
fi

# The distribution's own services are not wanted: the benchmark runs its own
# instances in network namespaces. Stopping an already stopped service is fine.
for svc in redis-server postgresql haproxy rabbitmq-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl list-unit-files "${svc}.service" >/dev/null 2>&1; then
    systemctl disable --now "${svc}" >/dev/null 2>&1 || true
  fi
  if [[ -x /etc/init.d/${svc} ]]; then
    /etc/init.d/${svc} stop >/dev/null 2>&1 || true
  fi
done

for bin in redis-server haproxy; do
  command -v "${bin}" >/dev/null || { echo "setup: ${bin} missing after install" >&2; exit 1; }
done
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { echo "setup: postgres binary missing after install" >&2; exit 1; }
echo "setup: ok (redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2), $(haproxy -v | head -1 | awk '{print $1, $3}'), postgres $(ls /usr/lib/postgresql | sort -V | tail -1))"
