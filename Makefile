# berth: multi-cluster placement of managed data services.
# `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

GO ?= go
# Tools pinned in hack/tools/go.mod, run with `go tool` (built once, cached by Go).
TOOL := $(GO) tool -modfile=hack/tools/go.mod
CONTROLLER_GEN := $(TOOL) controller-gen
GOLANGCI_LINT := $(TOOL) golangci-lint
BIN := bin
# Where `make tools` caches the cluster binaries.
export BERTH_CACHE_DIR ?= $(HOME)/.cache/berth
TEST_TIMEOUT ?= 40m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Regenerate deepcopy code and CRDs (berth's and the CAPI test CRDs).
	$(CONTROLLER_GEN) object paths=./apis/...
	rm -f deploy/crds/fleet.berth.io_*.yaml && $(CONTROLLER_GEN) crd:crdVersions=v1 paths=./apis/... output:crd:artifacts:config=deploy/crds
	rm -rf e2e/framework/testdata/capi-crds && $(CONTROLLER_GEN) crd:crdVersions=v1 paths=sigs.k8s.io/cluster-api/api/core/v1beta2 output:crd:artifacts:config=e2e/framework/testdata/capi-crds

.PHONY: verify
verify: ## Fail when generated files are stale, or gofmt, go vet or golangci-lint complain.
	hack/verify.sh

.PHONY: build
build: ## Build berth-hub, berth-spoke and berthctl into bin/.
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: tools
tools: ## Build the pinned control-plane binaries into $BERTH_CACHE_DIR (about 16 min cold, seconds warm).
	hack/clustertools/build.sh

##@ Testing

.PHONY: test
test: tools ## Unit, envtest and local-fleet tests, plus the short e2e and bench smoke.
	$(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./...

.PHONY: e2e
e2e: tools build ## The full end-to-end suite against a local fleet.
	$(GO) test -tags e2e -timeout 60m -count=1 -v ./e2e/...

.PHONY: bench
bench: tools build ## The full benchmarks (needs root for the data path); writes bench/out/report.md.
	mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchmem ./placement/... ./spoke/render/... | tee bench/out/placement.txt
	$(GO) test -run '^$$' -bench RegistrationLatency -benchtime 5x ./controllers/registration/ | tee bench/out/registration.txt
	$(GO) test -tags e2e -count=1 -run 'TestPropagationLatency' -v ./e2e/ | tee bench/out/propagation.txt
	$(BIN)/berthctl bench controlplane --members 10,100,1000 --out bench/out
	$(BIN)/berthctl bench dataplane --profile 0,0.5ms --out bench/out
	$(BIN)/berthctl bench blastradius --out bench/out

##@ Fleet

.PHONY: demo
demo: tools build ## Bring up the local fleet and show it (leave it running; `bin/berthctl dev down` removes it).
	$(BIN)/berthctl demo
