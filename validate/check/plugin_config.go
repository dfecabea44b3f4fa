package check

import (
	"encoding/json"

	"meshops.dev/meshops/plugin/config"
	"meshops.dev/meshops/validate/index"
)

// PluginConfig runs the plugin's own configuration parser at PR time.
var PluginConfig = catalogued("WP005")

func init() { PluginConfig.Target = pluginConfig }

func pluginConfig(ix *index.Index, _ *Env) []Finding {
	c := PluginConfig
	var out []Finding
	for _, o := range ix.Kind("WasmPlugin") {
		raw, ok := o.Spec()["pluginConfig"]
		if !ok {
			continue
		}
		data, err := json.Marshal(raw)
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
