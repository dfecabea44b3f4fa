# meshops: make help lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN        := bin
VALIDATE   := $(BIN)/validate
ROLLOUT    := $(BIN)/rollout
EXPLAIN    := $(BIN)/explain
FORK       := $(BIN)/fork
CHARTS     := $(BIN)/charts
GO_SOURCES := $(shell find validate plugin internal cmd -name '*.go' -not -path '*/testdata/*') go.mod go.sum plugin/go.mod plugin/go.sum validate/istio/crds.gen.yaml $(wildcard validate/gitops/crds/*.yaml)
OUTPUT     ?= text
WASM       ?= plugin.wasm

.PHONY: help init validate test kube-tools charts plugin image push bump promote diff explain bench pgo fmt lint

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The first build downloads the modules and compiles Istio's and Kubernetes'
# code: minutes, not seconds (README, "Set up"). Say so, and show progress.
# Builds report on stderr and recipes that print a report are silent (@), so
# that make validate OUTPUT=json|sarif > file, make diff > file and make
# explain OUTPUT=json > file write only the document.
$(VALIDATE): $(GO_SOURCES)
	@if [ -x $@ ]; then echo "go build -o $@ ./validate" >&2; go build -o $@ ./validate; else \
	  echo "make: first build of the validator: Go downloads the modules and compiles Istio's and Kubernetes' code; this takes several minutes once (see README, Set up), later builds take seconds" >&2; \
	  scripts/first-build.sh $@ ./validate; fi

$(ROLLOUT): $(GO_SOURCES)
	@echo "go build -o $@ ./cmd/rollout" >&2; go build -o $@ ./cmd/rollout

$(EXPLAIN): $(GO_SOURCES)
	@echo "go build -o $@ ./cmd/explain" >&2; go build -o $@ ./cmd/explain

$(FORK): $(GO_SOURCES)
	go build -o $@ ./cmd/fork

$(CHARTS): $(GO_SOURCES)
	go build -o $@ ./cmd/charts

init: $(FORK) ## Make the fork yours: REPO=git-url REGISTRY=host[:port]/path/name DOMAIN=dns-suffix (any of them; DRY_RUN=1 writes nothing)
	@$(FORK) $(if $(REPO),--repo "$(REPO)") $(if $(REGISTRY),--registry "$(REGISTRY)") $(if $(DOMAIN),--domain "$(DOMAIN)") $(if $(DRY_RUN),--dry-run)

validate: $(VALIDATE) ## Render every overlay and cluster entry point offline and check them (OUTPUT=text|json|github|sarif) [CLUSTER=kubeconfig context: then dry-run every object there]
	@$(VALIDATE) -o $(OUTPUT) .
	@$(if $(CLUSTER),go run ./cmd/dryrun --context "$(CLUSTER)" .)

charts: $(CHARTS) ## Fetch the Helm charts the repository pins into the chart cache and record their digests in charts.lock (needs the network) [MESHOPS_CHART_CACHE=dir]
	@$(CHARTS)

# The API server oracle's programs, pinned in their own module (tools/kube)
# so that k8s.io/kubernetes never enters go.mod.
KUBE_TOOLS := $(BIN)/etcd $(BIN)/kube-apiserver

kube-tools: $(KUBE_TOOLS) ## Build etcd and kube-apiserver from tools/kube into bin/, for make test's API server oracle

$(BIN)/etcd: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && go build -o ../../$@ go.etcd.io/etcd/server/v3

$(BIN)/kube-apiserver: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && go build -o ../../$@ k8s.io/kubernetes/cmd/kube-apiserver

# The validator's CPU profile (PGO, make pgo). go build reads it on its own
# for ./validate; the tests and benchmarks name it, so every package compiles
# once, as the validator's build compiled it, not twice on a cold cache.
PGO := -pgo=validate/default.pgo

test: ## Run every test: the repository module (with the API server oracle if make kube-tools ran), then the plugin module
	go test $(PGO) ./...
	cd plugin && go test ./...

plugin: ## Build plugin.wasm with TinyGo 0.37 (else a Docker engine with buildx) and test it [WASM=plugin.wasm]
	@scripts/build-plugin.sh wasm "$(WASM)"

image: ## Build the plugin's OCI image with a Docker engine and buildx (IMAGE=registry/repo:tag)
	@test -n "$(IMAGE)" || { echo "make image: set IMAGE=registry/repo:tag" >&2; exit 2; }
	@scripts/build-plugin.sh image "$(IMAGE)"

push: ## Push plugin.wasm as an OCI image without Docker (IMAGE=registry/repo:tag [WASM=path])
	@test -n "$(IMAGE)" || { echo "make push: set IMAGE=registry/repo:tag" >&2; exit 2; }
	go run ./cmd/pushwasm --wasm $(WASM) $(IMAGE)

bump: $(ROLLOUT) ## Pin one image in one overlay: ENV=dev IMAGE=name TAG=tag and/or DIGEST=sha256:...
	$(ROLLOUT) bump --env "$(ENV)" --image "$(IMAGE)" $(if $(TAG),--tag "$(TAG)") $(if $(DIGEST),--digest "$(DIGEST)")

promote: $(ROLLOUT) ## Copy the pins of the images TO renders from one overlay to another: FROM=dev TO=staging [DIGEST=sha256:...] (else the registry's digest of FROM's tag where TO pins by digest)
	$(ROLLOUT) promote --from "$(FROM)" --to "$(TO)" $(if $(DIGEST),--digest "$(DIGEST)")

diff: $(ROLLOUT) ## What the work tree changes in each environment's manifests [BASE=git-ref, default: merge base with main]
	@$(ROLLOUT) diff $(if $(BASE),--base "$(BASE)")

explain: $(EXPLAIN) ## What the mesh does with one environment, as istiod answers it: ENV=dev [OUTPUT=text|json]
	@$(EXPLAIN) -o $(if $(filter json,$(OUTPUT)),json,text) "$(ENV)"

bench: ## Benchmark the validator against the kustomize CLI on generated overlays
	go test $(PGO) -timeout 30m -run '^$$' -bench . -benchtime 1x ./validate/bench/

pgo: ## Refresh validate/default.pgo, the CPU profile the Go compiler optimizes the validator with (PGO): three runs on each N = 100 shape of make bench and three on this repository
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	BENCH_SIZES=100 BENCH_CPUPROFILE=$$dir go test $(PGO) -timeout 30m -run '^$$' -bench '^Benchmark(Validator|ShippedRepositoryCLI)$$' -benchtime 3x ./validate/bench/ && \
	go tool pprof -proto $$dir/*.pprof > validate/default.pgo.new && mv validate/default.pgo.new validate/default.pgo

fmt: ## Format the Go code
	gofmt -w validate plugin cmd internal

lint: ## Vet both Go modules, check formatting, and lint the GitHub workflows with actionlint
	go vet ./...
	cd plugin && go vet ./...
	go tool -modfile=tools/lint/go.mod actionlint
	@test -z "$$(gofmt -l validate plugin cmd internal)" || { gofmt -l validate plugin cmd internal; echo "gofmt: the files above need make fmt" >&2; exit 1; }
