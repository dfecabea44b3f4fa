// Package filter is the meshops plugin's proxy-wasm code: the VM, plugin and
// HTTP contexts that set the configured response headers. The plugin's main
// package registers it with the host; `make explain` runs the very same code
// natively through the SDK's proxytest host emulator, with the configuration
// istiod would push.
package filter

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"meshops.dev/meshops/plugin/config"
)

// NewVMContext returns the plugin's root context.
func NewVMContext() types.VMContext { return &vmContext{} }

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
