# meshops: make help lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN        := bin
VALIDATE   := $(BIN)/validate
ROLLOUT    := $(BIN)/rollout
EXPLAIN    := $(BIN)/explain
GO_SOURCES := $(shell find validate plugin internal cmd -name '*.go' -not -path '*/testdata/*') go.mod go.sum plugin/go.mod plugin/go.sum validate/istio/crds.gen.yaml $(wildcard validate/gitops/crds/*.yaml)
OUTPUT     ?= text
WASM       ?= plugin.wasm

.PHONY: help validate test plugin image push bump promote diff explain bench fmt lint

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VALIDATE): $(GO_SOURCES)
	go build -o $@ ./validate

$(ROLLOUT): $(GO_SOURCES)
	go build -o $@ ./cmd/rollout

$(EXPLAIN): $(GO_SOURCES)
	go build -o $@ ./cmd/explain

validate: $(VALIDATE) ## Render every overlay and cluster entry point offline and check them (OUTPUT=text|json|github|sarif)
	$(VALIDATE) -o $(OUTPUT) .

test: ## Run every test: the repository module, then the plugin module
	go test ./...
	cd plugin && go test ./...

plugin: ## Build plugin.wasm with TinyGo (local tinygo, else the Dockerfile's builder stage)
	@if command -v tinygo >/dev/null; then \
		cd plugin && tinygo build -o ../$(WASM) -scheduler=none -target=wasi -buildmode=wasi-legacy -no-debug . && \
		PLUGIN_WASM=$(CURDIR)/$(WASM) go test ./...; \
	else \
		docker build --platform linux/amd64 --provenance=false --output type=local,dest=$(BIN)/plugin . && cp $(BIN)/plugin/plugin.wasm $(WASM); \
	fi

image: ## Build the plugin's OCI image with Docker (IMAGE=registry/repo:tag)
	@test -n "$(IMAGE)" || { echo "make image: set IMAGE=registry/repo:tag" >&2; exit 2; }
	docker build --platform linux/amd64 --provenance=false -t $(IMAGE) .

push: ## Push plugin.wasm as an OCI image without Docker (IMAGE=registry/repo:tag [WASM=path])
	@test -n "$(IMAGE)" || { echo "make push: set IMAGE=registry/repo:tag" >&2; exit 2; }
	go run ./cmd/pushwasm --wasm $(WASM) $(IMAGE)

bump: $(ROLLOUT) ## Pin one image in one overlay: ENV=dev IMAGE=name TAG=tag and/or DIGEST=sha256:...
	$(ROLLOUT) bump --env "$(ENV)" --image "$(IMAGE)" $(if $(TAG),--tag "$(TAG)") $(if $(DIGEST),--digest "$(DIGEST)")

promote: $(ROLLOUT) ## Copy every pinned image from one overlay to another: FROM=dev TO=staging
	$(ROLLOUT) promote --from "$(FROM)" --to "$(TO)"

diff: $(ROLLOUT) ## What the work tree changes in each environment's manifests [BASE=git-ref, default: merge base with main]
	@$(ROLLOUT) diff $(if $(BASE),--base "$(BASE)")

explain: $(EXPLAIN) ## What the mesh does with one environment, as istiod answers it: ENV=dev [OUTPUT=text|json]
	@$(EXPLAIN) -o $(if $(filter json,$(OUTPUT)),json,text) "$(ENV)"

bench: ## Benchmark the validator against the kustomize CLI on generated overlays
	go test -run '^$$' -bench . -benchtime 1x ./validate/bench/

fmt: ## Format the Go code
	gofmt -w validate plugin cmd internal

lint: ## Vet both Go modules, check formatting, and lint the GitHub workflows with actionlint
	go vet ./...
	cd plugin && go vet ./...
	go tool actionlint
	@test -z "$$(gofmt -l validate plugin cmd internal)" || { gofmt -l validate plugin cmd internal; echo "gofmt: the files above need make fmt" >&2; exit 1; }
