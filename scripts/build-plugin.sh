#!/usr/bin/env bash
# Build the plugin: make plugin and make image call this script.
#
#   scripts/build-plugin.sh wasm  OUT        plugin.wasm with TinyGo, else the Dockerfile's builder stage
#   scripts/build-plugin.sh image IMAGE      the plugin's OCI image with a Docker engine and buildx
#
# It needs TinyGo 0.37 (the release the Dockerfile pins) or a Docker engine
# that answers, with buildx. Without them it prints one line saying so and
# exits 2; it never starts a build that cannot finish.
set -euo pipefail

want_tinygo=0.37
root="$(cd "$(dirname "$0")/.." && pwd)"

usage() { echo "usage: $0 wasm OUT.wasm | image REGISTRY/REPO:TAG" >&2; exit 2; }

# docker_ready: a docker client whose engine answers (within 30 s, when
# coreutils' timeout is there) and which has buildx.
docker_ready() {
  local limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 30)
  command -v docker >/dev/null 2>&1 &&
    "${limit[@]}" docker info >/dev/null 2>&1 &&
    docker buildx version >/dev/null 2>&1
}

[ $# -eq 2 ] && [ -n "$2" ] || usage
mode="$1" target="$2"

case "$mode" in
wasm)
  case "$target" in /*) out="$target" ;; *) out="$PWD/$target" ;; esac
  if command -v tinygo >/dev/null 2>&1; then
    version="$(tinygo version 2>/dev/null || true)"
    case "$version" in
      "tinygo version $want_tinygo".*) ;;
      *) echo "build-plugin: warning: the Dockerfile pins TinyGo $want_tinygo; building with ${version:-an unknown TinyGo}" >&2 ;;
    esac
    cd "$root/plugin"
    # -buildmode=wasi-legacy: since TinyGo 0.35 a plain -target=wasi module
    # calls proc_exit when main returns, and Envoy refuses to load it.
    tinygo build -o "$out" -scheduler=none -target=wasi -buildmode=wasi-legacy -no-debug .
    # The same tests, run against the compiled module (see plugin/main_test.go).
    PLUGIN_WASM="$out" go test ./...
    echo "built $out"
  elif docker_ready; then
    dest="$root/bin/plugin"
    rm -rf "$dest"
    docker buildx build --platform linux/amd64 --provenance=false --output "type=local,dest=$dest" "$root"
    cp "$dest/plugin.wasm" "$out.tmp" && mv "$out.tmp" "$out"
    echo "built $out"
  else
    echo "make plugin: needs TinyGo $want_tinygo on PATH (https://tinygo.org/getting-started/install/) or a running Docker engine with buildx" >&2
    exit 2
  fi
  ;;
image)
  if ! docker_ready; then
    echo "make image: needs a running Docker engine with buildx (or build with TinyGo $want_tinygo: make plugin, then make push IMAGE=...)" >&2
    exit 2
  fi
  # linux/amd64 only and no provenance: Istio picks the amd64 manifest and
  # compares spec.sha256 with that manifest's digest.
  docker buildx build --platform linux/amd64 --provenance=false --load -t "$target" "$root"
  ;;
*) usage ;;
esac
