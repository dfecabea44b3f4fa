// Package pluginrun runs the repository's Wasm plugin natively: the very code
// of plugin/filter, through the proxy-wasm SDK's proxytest host emulator, the
// same ABI calls Envoy makes. `make explain` uses it to show the headers a
// response gets with the configuration istiod would push.
//
// The plugin stays its own module (TinyGo, one dependency); this module
// requires it through go.mod's replace, so the plugin module never sees the
// validator's dependencies (istiod's code among them).
package pluginrun

import (
	"strings"
	"sync"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"meshops.dev/meshops/plugin/filter"
)

// emulator serialises runs: proxytest.NewHostEmulator installs its host in
// the SDK's process-wide state, so two emulators cannot run at once.
var emulator sync.Mutex

// Result is what one response looks like after the plugin ran.
type Result struct {
	// Headers are the response headers after the plugin, in order; names
	// lower-case, as Envoy keeps them.
	Headers [][2]string
	// StartError is the plugin's critical log when OnPluginStart failed (a bad
	// pluginConfig): Envoy then applies the WasmPlugin's failStrategy.
	StartError string
}

// Respond starts the plugin with pluginConfig (the string istiod pushes) and
// sends one response with the given upstream headers through
// OnHttpResponseHeaders.
func Respond(pluginConfig string, upstream [][2]string) Result {
	emulator.Lock()
	defer emulator.Unlock()
	opt := proxytest.NewEmulatorOption().WithVMContext(filter.NewVMContext()).WithPluginConfiguration([]byte(pluginConfig))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if status := host.StartPlugin(); status != types.OnPluginStartStatusOK {
		return Result{Headers: upstream, StartError: strings.Join(host.GetCriticalLogs(), "; ")}
	}
	id := host.InitializeHttpContext()
	host.CallOnResponseHeaders(id, upstream, false)
	out := host.GetCurrentResponseHeaders(id)
	host.CompleteHttpContext(id)
	return Result{Headers: out}
}
