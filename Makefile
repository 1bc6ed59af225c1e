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
HELM := $(TOOL) helm
PROMTOOL := $(TOOL) promtool
BIN := bin
# The version stamped into the binaries and the images.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/berth-io/berth/cmd/berthctl/cli.Version=$(VERSION) -X github.com/berth-io/berth/spoke/agent.Version=$(VERSION)
# Where `make tools` caches the cluster binaries.
export BERTH_CACHE_DIR ?= $(HOME)/.cache/berth
TEST_TIMEOUT ?= 40m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Regenerate deepcopy code, CRDs (berth's and the CAPI test CRDs), and deploy/ from the chart.
	$(CONTROLLER_GEN) object paths=./apis/...
	rm -f deploy/crds/fleet.berth.io_*.yaml && $(CONTROLLER_GEN) crd:crdVersions=v1 paths=./apis/... output:crd:artifacts:config=deploy/crds
	rm -rf e2e/framework/testdata/capi-crds && $(CONTROLLER_GEN) crd:crdVersions=v1 paths=sigs.k8s.io/cluster-api/api/core/v1beta2 output:crd:artifacts:config=e2e/framework/testdata/capi-crds
	$(GO) run ./hack/deploygen

.PHONY: verify
verify: ## Fail when generated files are stale, gofmt, go vet or golangci-lint complain, or helm lint, the chart's templates or promtool fail.
	hack/verify.sh

.PHONY: build
build: ## Build berth-hub, berth-spoke, berthctl (and its kubectl-berth link) and berth-dev into bin/.
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...
	ln -sf berthctl $(BIN)/kubectl-berth

.PHONY: images
images: ## Build OCI image tarballs of berth-hub, berth-spoke and berthctl into bin/images/ (no Docker, no base image).
	$(GO) run ./hack/images --out $(BIN)/images --version $(VERSION)

.PHONY: tools
tools: ## Build the pinned control-plane binaries into $BERTH_CACHE_DIR (about 16 min cold, seconds warm).
	hack/clustertools/build.sh

##@ Testing

.PHONY: test
test: tools ## Unit, envtest and local-fleet tests, the short e2e and the bench smokes; ends with the skipped tests and why.
	$(GO) test -json -timeout $(TEST_TIMEOUT) -count=1 ./... | $(GO) run ./hack/testsummary

.PHONY: e2e
e2e: tools build ## The full end-to-end suite against a local fleet.
	$(GO) test -tags e2e -timeout 60m -count=1 -v ./e2e/...

.PHONY: bench
bench: tools build ## The full benchmarks (needs root for the data path); writes bench/out/report.md.
	mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchmem ./placement/... ./spoke/render/... | tee bench/out/placement.txt
	$(GO) test -run '^$$' -bench RegistrationLatency -benchtime 5x ./controllers/registration/ | tee bench/out/registration.txt
	$(GO) test -tags e2e -count=1 -run 'TestPropagationLatency' -v ./e2e/ | tee bench/out/propagation.txt
	$(BIN)/berth-dev bench controlplane --members 10,100,1000 --out bench/out
	$(BIN)/berth-dev bench dataplane --profile 0,0.5ms --out bench/out
	$(BIN)/berth-dev bench blastradius --out bench/out

##@ Fleet

.PHONY: demo
demo: tools build ## Bring up the local fleet and show it (leave it running; `bin/berth-dev dev down` removes it).
	$(BIN)/berth-dev demo
