# The plugin's OCI image: plugin.wasm alone, in the layout Istio's image
# fetcher reads (the last layer is a tar holding plugin.wasm).
#
#   docker build --platform linux/amd64 --provenance=false -t REGISTRY/meshops-plugin:TAG .
#
# Build for linux/amd64 only and without provenance: Istio picks the amd64
# manifest and compares spec.sha256 with that manifest's digest.

FROM tinygo/tinygo:0.37.0 AS build
USER root
WORKDIR /src
COPY plugin/go.mod plugin/go.sum ./
RUN go mod download
COPY plugin/ ./
# -buildmode=wasi-legacy: since TinyGo 0.35 a plain -target=wasi module calls
# proc_exit when main returns, and Envoy refuses to load it.
RUN tinygo build -o /plugin.wasm -scheduler=none -target=wasi -buildmode=wasi-legacy -no-debug . \
 && PLUGIN_WASM=/plugin.wasm go test ./...

FROM scratch
COPY --from=build /plugin.wasm /plugin.wasm
