package check

import (
	extensions "istio.io/api/extensions/v1alpha1"

	"meshops.dev/meshops/validate/index"
)

// WasmPluginReach is the reason the validator exists: a WasmPlugin whose
// selector matches no pod is accepted by the API server and by istiod, and
// then silently does nothing.
var WasmPluginReach = catalogued("WP001")

func init() { WasmPluginReach.Target = wasmPluginReach }

// wasmPlugin is a WasmPlugin with its typed spec; one that does not decode
// strictly has none, and the plugin checks skip it (IS001/IS002 report it).
type wasmPlugin = index.Typed[*extensions.WasmPlugin]

// selectedWorkloads returns the workloads a WasmPlugin's selector reaches and
// the ones it could reach. ok is false when the plugin uses targetRefs.
func selectedWorkloads(ix *index.Index, env *Env, p wasmPlugin) (selector map[string]string, matched, candidates []index.Workload, ok bool) {
	if len(p.Spec.GetTargetRefs()) > 0 || p.Spec.GetTargetRef() != nil {
		return nil, nil, nil, false
	}
	selector = p.Spec.GetSelector().GetMatchLabels()
	ns := p.Namespace
	if ns == rootNamespace(env) {
		ns = ""
	}
	candidates = ix.Workloads(ns)
	for _, w := range candidates {
		if subset(selector, w.Template.Labels) {
			matched = append(matched, w)
		}
	}
	return selector, matched, candidates, true
}

func wasmPluginReach(ix *index.Index, env *Env) []Finding {
	c := WasmPluginReach
	var out []Finding
	ans, _ := env.Mesh.Answer(ix)
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		selector, matched, candidates, ok := selectedWorkloads(ix, env, p)
		if !ok || len(matched) > 0 {
			continue
		}
		if ans != nil && (len(ans.Plugins[o.Namespace+"/"+o.Name].Attached) > 0 || len(selectedGateways(ix, env, o, selector)) > 0) {
			continue // istiod puts it on a gateway
		}
		where := "namespace " + o.Namespace
		if o.Namespace == rootNamespace(env) {
			where = "any namespace"
		}
		switch {
		case len(candidates) == 0:
			out = append(out, c.finding(ix, o, "selects pods in %s, but this overlay renders no workload there: the plugin would run nowhere; deploy a workload there or move the WasmPlugin to the workload's namespace", where))
		default:
			w, diff, _ := closest(selector, candidates)
			out = append(out, c.findingAt(ix, o, []string{"spec", "selector"}, "selector matchLabels {%s} matches no workload in %s: closest is %s, where %s; make the selector match its pod template labels",
				formatLabels(selector), where, w.String(), diff))
		}
	}
	return out
}
