module meshops.dev/meshops/plugin

go 1.22

require github.com/tetratelabs/proxy-wasm-go-sdk v0.24.0

require github.com/tetratelabs/wazero v1.7.2 // indirect
