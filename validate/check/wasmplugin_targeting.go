package check

import (
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// WasmPluginTargeting catches targetRefs that Istio accepts but applies nowhere.
var WasmPluginTargeting = catalogued("WP003")

func init() { WasmPluginTargeting.Target = wasmPluginTargeting }

// targetKinds are the kinds a WasmPlugin targetRef may name, by group.
var targetKinds = map[string]string{
	"Gateway":      "gateway.networking.k8s.io",
	"GatewayClass": "gateway.networking.k8s.io",
	"Service":      "",
	"ServiceEntry": "networking.istio.io",
}

func wasmPluginTargeting(ix *index.Index, env *Env) []Finding {
	c := WasmPluginTargeting
	var out []Finding
	var ans *mesh.Answer
	if env != nil && env.Mesh != nil {
		ans, _ = env.Mesh.Answer(ix)
	}
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
			case kind == "Gateway" && ans != nil:
				if msg := gatewayReach(ix, ans, o, name); msg != "" {
					out = append(out, c.findingAt(ix, o, []string{"spec", "targetRefs"}, "targetRefs[%d] names Gateway %s/%s, %s", i, o.Namespace, name, msg))
				}
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

// gatewayReach says why a WasmPlugin that targets a rendered Gateway API
// Gateway reaches no gateway in istiod's answer, or "" when istiod puts its
// filter on the gateway it deploys for the Gateway. A Gateway of a class
// no one handles is GWA002's finding; of another controller's class, istiod
// deploys nothing and pushes nothing, and a WasmPlugin is Istio's.
func gatewayReach(ix *index.Index, ans *mesh.Answer, o *index.Object, name string) string {
	var deployed *mesh.KubeGateway
	for i := range ans.KubeGateways {
		if g := &ans.KubeGateways[i]; g.Object.Namespace == o.Namespace && g.Object.Name == name {
			deployed = g
		}
	}
	if deployed == nil {
		for _, g := range ix.KubeGateways() {
			if g.Object.Namespace != o.Namespace || g.Object.Name != name {
				continue
			}
			ctl, known := mesh.GatewayClassController(ix, string(g.Value.Spec.GatewayClassName))
			if !known {
				return "" // GWA002
			}
			return "whose class " + string(g.Value.Spec.GatewayClassName) + " is handled by " + ctl + ", not by istiod: istiod deploys no gateway for it and the plugin runs nowhere; target a Gateway of class istio"
		}
		return ""
	}
	p := ans.Plugins[o.Namespace+"/"+o.Name]
	gw := "gateway " + deployed.Deployment.String()
	if p != nil {
		for _, a := range p.Attached {
			if a == gw {
				return ""
			}
		}
	}
	return "but istiod puts the plugin in none of the filter chains of " + gw + ", the gateway it deploys for it; the plugin runs nowhere"
}
