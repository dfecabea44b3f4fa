package check

import "meshops.dev/meshops/validate/index"

// RouteConflicts catches two VirtualServices claiming one host on one gateway.
var RouteConflicts = &Check{
	Code:     "RT005",
	Name:     "virtualservice-host-conflict",
	Severity: Error,
	Summary:  "no two VirtualServices bind the same host to the same Gateway",
	Rationale: "Istio does not merge two VirtualServices for one host on a gateway: it keeps the oldest and ignores the " +
		"other's routes, so which one wins depends on creation order (istioctl analyze: IST0109 for the mesh gateway).",
}

func routeConflicts(ix *index.Index, _ *Env) []Finding {
	c := RouteConflicts
	owner := map[string]*index.Object{}
	var out []Finding
	for _, vs := range ix.Kind("VirtualService") {
		for _, ref := range virtualServiceGateways(vs) {
			ns, name := gatewayRef(vs.Namespace, ref)
			for _, h := range listOf(vs.Spec(), "hosts") {
				host, _ := h.(string)
				key := ns + "/" + name + " " + host
				if first, ok := owner[key]; ok && first != vs {
					out = append(out, c.findingIn(ix, vs, ix.FieldSource(vs, "spec", "hosts"), "host %q on Gateway %s/%s is already routed by %s: Istio keeps one and ignores the other; merge the routes into one VirtualService", host, ns, name, first.String()))
					continue
				}
				owner[key] = vs
			}
		}
	}
	return out
}

func init() {
	RouteConflicts.Target = routeConflicts
}
