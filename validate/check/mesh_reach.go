package check

import (
	"fmt"
	"strconv"
	"strings"

	extensions "istio.io/api/extensions/v1alpha1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// rootNamespace is Istio's root namespace for the run: the platform's
// meshConfig.rootNamespace when istiod is asked, else the --root-namespace flag.
func rootNamespace(env *Env) string {
	if env.RootNamespace != "" {
		return env.RootNamespace
	}
	return env.Mesh.Platform().RootNamespace()
}

// selectedGateways returns the declared ingress gateways a WasmPlugin's
// selector reaches: a gateway in the plugin's namespace, or any gateway for
// a plugin in the root namespace.
func selectedGateways(ix *index.Index, env *Env, o *index.Object, selector map[string]string) []mesh.IngressGateway {
	if env.Mesh == nil {
		return nil
	}
	var out []mesh.IngressGateway
	for _, g := range env.Mesh.PlatformFor(ix).GatewaysSelected(selector) {
		if g.Namespace == o.Namespace || o.Namespace == rootNamespace(env) {
			out = append(out, g)
		}
	}
	return out
}

// meshWorkload returns istiod's view of a workload, or nil.
func meshWorkload(ans *mesh.Answer, w index.Workload) *mesh.Workload {
	if ans == nil {
		return nil
	}
	for _, mw := range ans.Workloads {
		if mw.Object() == w.Object {
			return mw
		}
	}
	return nil
}

// inboundCarries reports whether the workload's inbound HTTP chains run the plugin.
func inboundCarries(mw *mesh.Workload, key string) bool {
	for _, c := range mw.Chains {
		for _, f := range c.Filters {
			if f.Wasm != nil && f.Wasm.Plugin == key {
				return true
			}
		}
	}
	return false
}

func pluginKey(o *index.Object) string { return o.Namespace + "/" + o.Name }

// InjectionByAnnotation catches a sidecar asked for with the annotation.
var InjectionByAnnotation = catalogued("WP010")

// PluginType catches type NETWORK on the HTTP plugin.
var PluginType = catalogued("WP011")

// PluginMatch catches a match that selects no traffic the workload serves.
var PluginMatch = catalogued("WP012")

func init() {
	InjectionByAnnotation.Target = injectionByAnnotation
	PluginType.Target = pluginType
	PluginMatch.Target = pluginMatch
}

func injectionByAnnotation(ix *index.Index, env *Env) []Finding {
	c := InjectionByAnnotation
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		_, matched, _, ok := selectedWorkloads(ix, env, p)
		if !ok {
			continue
		}
		for _, w := range matched {
			inj := injectionOf(ix, env, w)
			if inj.Sidecar || !inj.AnnotationOnly {
				continue
			}
			out = append(out, c.findingAt(ix, w.Object, []string{"spec", "template", "metadata", "annotations", "sidecar.istio.io/inject"}, "%s selects %s, which runs no Envoy sidecar, so the plugin never runs there: %s; %s",
				o.String(), w.String(), inj.Why, inj.Fix))
		}
	}
	return out
}

// injectionOf is istiod's injection decision for w: from the answer when
// there is one, else computed with the same rules.
func injectionOf(ix *index.Index, env *Env, w index.Workload) mesh.Injection {
	ans, _ := env.Mesh.Answer(ix)
	if mw := meshWorkload(ans, w); mw != nil {
		return mw.Injection
	}
	ns := w.Namespace
	var nsLabels map[string]string
	if o := ix.Namespace(ns); o != nil {
		nsLabels = o.Labels()
	}
	return env.Mesh.PlatformFor(ix).Inject(ns, nsLabels, w.Template.Labels, w.Template.Annotations, w.Template.Spec.HostNetwork)
}

func pluginType(ix *index.Index, env *Env) []Finding {
	c := PluginType
	var out []Finding
	ans, _ := env.Mesh.Answer(ix)
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		network := p.Spec.GetType() == extensions.PluginType_NETWORK
		where := ""
		if ans != nil {
			if p := ans.Plugins[pluginKey(o)]; p != nil && p.Network {
				network = true
				where = fmt.Sprintf(" (istiod puts it in the network filters of %s)", strings.Join(p.Attached, ", "))
			}
		}
		if !network {
			continue
		}
		out = append(out, c.findingAt(ix, o, []string{"spec", "type"},
			"type: NETWORK runs the plugin as a TCP network filter%s, where Envoy never calls its HTTP callbacks, so it sets no header; set type: HTTP or drop the field", where))
	}
	return out
}

func pluginMatch(ix *index.Index, env *Env) []Finding {
	c := PluginMatch
	ans, err := env.Mesh.Answer(ix)
	if ans == nil || err != nil {
		return nil
	}
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		if p.Spec.GetType() == extensions.PluginType_NETWORK || len(p.Spec.GetMatch()) == 0 {
			continue // WP011; without match every listener is selected
		}
		_, matched, _, ok := selectedWorkloads(ix, env, p)
		if !ok {
			continue
		}
		for _, w := range matched {
			mw := meshWorkload(ans, w)
			if mw == nil || !mw.Sidecar || inboundCarries(mw, pluginKey(o)) {
				continue
			}
			var ports []string
			for _, ch := range mw.Chains {
				ports = append(ports, ch.Name)
			}
			out = append(out, c.findingAt(ix, o, []string{"spec", "match"},
				"match %s selects none of the inbound traffic of %s (istiod's inbound HTTP filter chains: %s), so the plugin never sees the requests %s serves; match mode SERVER (or omit mode) and a port it serves, or drop match",
				formatMatch(p.Spec.GetMatch()), w.String(), orNone(ports), w.String()))
		}
	}
	return out
}

// formatMatch prints a WasmPlugin's match; a selector without mode
// (UNDEFINED) selects client and server traffic alike, as istiod reads it.
func formatMatch(match []*extensions.WasmPlugin_TrafficSelector) string {
	var parts []string
	for _, m := range match {
		mode := m.GetMode()
		if mode == typev1beta1.WorkloadMode_UNDEFINED {
			mode = typev1beta1.WorkloadMode_CLIENT_AND_SERVER
		}
		var ports []string
		for _, p := range m.GetPorts() {
			ports = append(ports, strconv.FormatUint(uint64(p.GetNumber()), 10))
		}
		s := "{mode: " + mode.String()
		if len(ports) > 0 {
			s += ", ports: [" + strings.Join(ports, ", ") + "]"
		}
		parts = append(parts, s+"}")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
