module meshops.dev/meshops/plugin

// The Go version TinyGo 0.37 (the Dockerfile's builder, Go 1.24) accepts:
// keep this line at 1.24 or lower, and the requirements below with it.
go 1.23.0

require github.com/tetratelabs/proxy-wasm-go-sdk v0.24.0

// wazero is not imported by the plugin: proxytest.NewWasmVMContext uses it to
// run the TinyGo-built plugin.wasm in the tests (PLUGIN_WASM). It is required
// here, above the v1.7.2 the SDK asks for, because wazero v1.7.2's compiler
// miscompiles TinyGo allocations of 4 KiB and more (a valid config with a
// 4,000-byte value traps with "out of bounds memory access"); v1.9.0 and later
// are correct. v1.10.1 is the newest release whose go line (1.23.0) TinyGo
// 0.37 accepts without pulling in another module (v1.11.0 adds golang.org/x/sys).
require github.com/tetratelabs/wazero v1.10.1 // indirect
