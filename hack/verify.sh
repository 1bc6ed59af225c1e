#!/usr/bin/env bash
# Fails when generated files are stale, when gofmt, go vet or golangci-lint
# complain, or when the Helm chart fails helm lint, does not render with its
# ci/ values, or its PrometheusRule fails promtool. Run by `make verify`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail=0
step() { printf '==> %s\n' "$*"; }

step "generated code and CRDs are current"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
generated=(apis/fleet/v1alpha1/zz_generated.deepcopy.go deploy/crds e2e/framework/testdata/capi-crds
  deploy/charts/berth/crds deploy/charts/berth/files/spoke-rules.yaml deploy/charts/berth/files/spoke-namespace-rules.yaml
  deploy/hub/berth.yaml deploy/spoke/berth.yaml)
for p in "${generated[@]}"; do mkdir -p "${tmp}/$(dirname "$p")"; cp -r "$p" "${tmp}/$p"; done
make --no-print-directory generate >/dev/null
for p in "${generated[@]}"; do
  if ! diff -r "${tmp}/$p" "$p" >/dev/null; then
    echo "stale: $p (run 'make generate' and commit the result)"
    diff -r "${tmp}/$p" "$p" | head -20 || true
    fail=1
  fi
done

step "Helm chart: helm lint, template with ci/ values, promtool check rules"
go run ./hack/deploygen check || fail=1

step "gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' | grep -v '^hack/tools/') 2>/dev/null || true)"
if [[ -n "${unformatted}" ]]; then echo "gofmt needed:"; echo "${unformatted}"; fail=1; fi

step "go mod tidy"
cp go.mod "${tmp}/go.mod"; cp go.sum "${tmp}/go.sum"
go mod tidy
if ! diff -q "${tmp}/go.mod" go.mod >/dev/null || ! diff -q "${tmp}/go.sum" go.sum >/dev/null; then
  echo "go.mod/go.sum not tidy (run 'go mod tidy')"; fail=1
fi

step "go vet"
go vet ./... || fail=1
go vet -tags e2e ./e2e/... || fail=1

step "golangci-lint"
go tool -modfile=hack/tools/go.mod golangci-lint run ./... || fail=1

if [[ ${fail} -ne 0 ]]; then echo "verify: FAILED"; exit 1; fi
echo "verify: OK"
