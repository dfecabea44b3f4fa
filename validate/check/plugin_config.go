package check

import (
	"istio.io/istio/pkg/util/protomarshal"

	"meshops.dev/meshops/plugin/config"
	"meshops.dev/meshops/validate/index"
)

// PluginConfig runs the plugin's own configuration parser at PR time.
var PluginConfig = &Check{
	Code:     "WP005",
	Name:     "wasmplugin-config",
	Severity: Error,
	Summary:  "a WasmPlugin's pluginConfig parses with the plugin's own configuration code",
	Rationale: "The plugin refuses a bad pluginConfig in OnPluginStart: Envoy then applies failStrategy, so the headers silently " +
		"disappear (FAIL_OPEN) or every request fails (FAIL_CLOSE). The validator imports the very package the plugin runs " +
		"(plugin/config), so the message is the one the plugin would log. Every WasmPlugin in the repository is taken to run this plugin.",
}

func init() { PluginConfig.Target = pluginConfig }

func pluginConfig(ix *index.Index, _ *Env) []Finding {
	c := PluginConfig
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o, pc := p.Object, p.Spec.GetPluginConfig()
		if len(pc.GetFields()) == 0 {
			continue // istiod hands the plugin no configuration: it runs with config.Default()
		}
		// What istiod hands the plugin (TrafficExtensionWrapper.buildWasmConfig
		// in pilot/pkg/model/extensions.go): protomarshal.ToJSON of the Struct.
		js, err := protomarshal.ToJSON(pc)
		data := []byte(js)
		if err != nil {
			out = append(out, c.findingAt(ix, o, []string{"spec", "pluginConfig"}, "pluginConfig cannot be encoded as JSON: %v", err))
			continue
		}
		if _, err := config.Parse(data); err != nil {
			out = append(out, c.findingAt(ix, o, []string{"spec", "pluginConfig"}, "pluginConfig: %v (the plugin would refuse to start)", err))
		}
	}
	return out
}
