package check

import (
	"meshops.dev/meshops/validate/index"
)

// WasmPluginTargeting catches targetRefs that Istio accepts but applies nowhere.
var WasmPluginTargeting = &Check{
	Code:     "WP003",
	Name:     "wasmplugin-targetrefs",
	Severity: Error,
	Summary:  "a WasmPlugin uses either selector or targetRefs, and its targetRefs name a Gateway API Gateway, GatewayClass, Service or ServiceEntry that exists in its namespace",
	Rationale: "selector and targetRefs are mutually exclusive. targetRefs reach only Gateway API gateways and waypoints: a sidecar ignores " +
		"them, and Istio drops a reference to any other kind (a Deployment, an Istio networking.istio.io Gateway). " +
		"References are namespace-local: a target in another namespace, or one the repository does not deploy, leaves the plugin attached to nothing.",
}

func init() { WasmPluginTargeting.Target = wasmPluginTargeting }

// targetKinds are the kinds a WasmPlugin targetRef may name, by group.
var targetKinds = map[string]string{
	"Gateway":      "gateway.networking.k8s.io",
	"GatewayClass": "gateway.networking.k8s.io",
	"Service":      "",
	"ServiceEntry": "networking.istio.io",
}

func wasmPluginTargeting(ix *index.Index, _ *Env) []Finding {
	c := WasmPluginTargeting
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		refs := p.Spec.GetTargetRefs()
		if ref := p.Spec.GetTargetRef(); ref != nil {
			refs = append(refs[:len(refs):len(refs)], ref)
		}
		if len(refs) == 0 {
			continue
		}
		if p.Spec.GetSelector() != nil { // set, as the CRD's rule has(self.selector) reads it
			out = append(out, c.findingAt(ix, o, []string{"spec", "targetRefs"}, "sets both selector and targetRefs: keep selector for sidecars, or targetRefs for Gateway API gateways and waypoints"))
		}
		for i, ref := range refs {
			kind, group, name, ns := ref.GetKind(), ref.GetGroup(), ref.GetName(), ref.GetNamespace()
			wantGroup, known := targetKinds[kind]
			switch {
			case !known || group != wantGroup:
				out = append(out, c.findingAt(ix, o, []string{"spec", "targetRefs"}, "targetRefs[%d] names %s %q (group %q), which Istio drops for this policy and sidecars ignore: target a gateway.networking.k8s.io Gateway, a Service or a ServiceEntry, or use selector for sidecars", i, kind, name, group))
			case ns != "" && ns != o.Namespace:
				out = append(out, c.findingAt(ix, o, []string{"spec", "targetRefs"}, "targetRefs[%d] names %s %s/%s in another namespace: targetRefs are namespace-local; create the WasmPlugin in namespace %s", i, kind, ns, name, ns))
			case kind == "GatewayClass":
			case !rendered(ix.GroupKind(wantGroup, kind), o.Namespace, name):
				out = append(out, c.findingAt(ix, o, []string{"spec", "targetRefs"}, "targetRefs[%d] names %s %s/%s, which this overlay does not render: the plugin would attach to nothing", i, kind, o.Namespace, name))
			}
		}
	}
	return out
}

// rendered reports whether objs holds the object namespace/name.
func rendered(objs []*index.Object, namespace, name string) bool {
	for _, o := range objs {
		if o.Namespace == namespace && o.Name == name {
			return true
		}
	}
	return false
}
