package check

import "meshops.dev/meshops/validate/index"

// RouteConflicts catches two VirtualServices claiming one host on one gateway.
var RouteConflicts = &Check{
	Code:     "RT005",
	Name:     "virtualservice-host-conflict",
	Severity: Error,
	Summary:  "no two VirtualServices bind the same host to the same Gateway",
	Rationale: "Two VirtualServices for one host on a gateway are merged by istiod in creation order, so where their routes " +
		"overlap the oldest wins and the other's routes are shadowed, depending on creation order (istioctl analyze: IST0109 for the " +
		"mesh gateway). When istiod's answer is available, the host is simulated per declared path and only a path that reaches " +
		"the other VirtualService's route is a conflict; disjoint paths (/api and /) are fine.",
}

func routeConflicts(ix *index.Index, env *Env) []Finding {
	c := RouteConflicts
	owner := map[string]*index.Object{}
	var out []Finding
	for _, vs := range ix.Kind("VirtualService") {
		for _, ref := range virtualServiceGateways(vs) {
			ns, name := gatewayRef(vs.Namespace, ref)
			for _, h := range listOf(vs.Spec(), "hosts") {
				host, _ := h.(string)
				key := ns + "/" + name + " " + host
				if first, ok := owner[key]; ok && first != vs && !pilotMerges(ix, env, host, first, vs) {
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

// pilotMerges reports whether, in istiod's answer, every path either
// VirtualService declares for host reaches a route of that VirtualService:
// istiod merged them without shadowing.
func pilotMerges(ix *index.Index, env *Env, host string, vss ...*index.Object) bool {
	ans, err := env.Mesh.Answer(ix)
	if ans == nil || err != nil {
		return false
	}
	for _, vs := range vss {
		key, seen := pluginKey(vs), false
		for _, g := range ans.Gateways {
			for _, r := range g.Routes {
				if r.VirtualService != vs || r.Host != host {
					continue
				}
				seen = true
				if r.From != key {
					return false
				}
			}
		}
		if !seen {
			return false
		}
	}
	return true
}
