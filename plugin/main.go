// Command plugin is the meshops Istio WasmPlugin: it sets a configured list of
// headers on every HTTP response (by default "hello: world").
//
// Build it with TinyGo (see the Dockerfile for the exact flags):
//
//	tinygo build -o plugin.wasm -scheduler=none -target=wasi -buildmode=wasi-legacy -no-debug .
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"meshops.dev/meshops/plugin/config"
)

func main() {
	proxywasm.SetVMContext(&vmContext{})
}

type vmContext struct {
	types.DefaultVMContext
}

func (*vmContext) NewPluginContext(uint32) types.PluginContext {
	return &pluginContext{}
}

type pluginContext struct {
	types.DefaultPluginContext
	headers []config.Header
}

// OnPluginStart parses pluginConfig. A bad configuration fails the plugin
// with one critical log line naming the offending field; Envoy then applies
// the WasmPlugin's failStrategy.
func (p *pluginContext) OnPluginStart(pluginConfigurationSize int) types.OnPluginStartStatus {
	var data []byte
	if pluginConfigurationSize > 0 {
		var err error
		if data, err = proxywasm.GetPluginConfiguration(); err != nil {
			proxywasm.LogCritical("meshops plugin: read pluginConfig: " + err.Error())
			return types.OnPluginStartStatusFailed
		}
	}
	cfg, err := config.Parse(data)
	if err != nil {
		proxywasm.LogCritical("meshops plugin: invalid pluginConfig: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.headers = cfg.ResponseHeaders
	return types.OnPluginStartStatusOK
}

func (p *pluginContext) NewHttpContext(uint32) types.HttpContext {
	return &httpContext{headers: p.headers}
}

type httpContext struct {
	types.DefaultHttpContext
	headers []config.Header
}

// OnHttpResponseHeaders sets every configured header. Replace is Envoy's
// setCopy: it drops any value the upstream sent under that name, so the
// response carries exactly one copy.
func (h *httpContext) OnHttpResponseHeaders(int, bool) types.Action {
	for _, hd := range h.headers {
		if err := proxywasm.ReplaceHttpResponseHeader(hd.Name, hd.Value); err != nil {
			proxywasm.LogError("meshops plugin: set response header " + hd.Name + ": " + err.Error())
		}
	}
	return types.ActionContinue
}
