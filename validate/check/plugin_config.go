package check

import (
	"istio.io/istio/pkg/util/protomarshal"

	"meshops.dev/meshops/plugin/config"
	"meshops.dev/meshops/validate/index"
)

// PluginConfig runs the plugin's own configuration parser at PR time.
var PluginConfig = catalogued("WP005")

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
