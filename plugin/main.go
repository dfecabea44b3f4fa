// Command plugin is the meshops Istio WasmPlugin: it sets a configured list of
// headers on every HTTP response (by default "hello: world"). The code lives
// in package filter, so that `make explain` can run it natively.
//
// Build it with TinyGo (see the Dockerfile for the exact flags):
//
//	tinygo build -o plugin.wasm -scheduler=none -target=wasi -buildmode=wasi-legacy -no-debug .
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"meshops.dev/meshops/plugin/filter"
)

func main() {
	proxywasm.SetVMContext(filter.NewVMContext())
}
