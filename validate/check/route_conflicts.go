package check

import (
	"strconv"

	"meshops.dev/meshops/validate/index"
)

// RouteConflicts catches two VirtualServices claiming one host on one gateway.
var RouteConflicts = &Check{
	Code:     "RT005",
	Name:     "virtualservice-host-conflict",
	Severity: Error,
	Summary:  "no two VirtualServices bind the same host to the same Gateway",
	Rationale: "Istio does not merge two VirtualServices for one host on a gateway: it keeps the oldest and ignores the " +
		"other's routes, so which one wins depends on creation order (istioctl analyze: IST0109 for the mesh gateway).",
}

// GatewayConflicts catches two Gateways claiming one host and port on one proxy.
var GatewayConflicts = &Check{
	Code:     "RT006",
	Name:     "gateway-conflict",
	Severity: Error,
	Summary:  "no two Gateways with the same selector serve the same host on the same port",
	Rationale: "Two Gateways that select the same gateway pods and claim the same port and host conflict: Istio keeps " +
		"one server and drops the other (istioctl analyze: IST0145).",
}

func init() {
	RouteConflicts.Target = routeConflicts
	GatewayConflicts.Target = gatewayConflicts
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

func gatewayConflicts(ix *index.Index, _ *Env) []Finding {
	c := GatewayConflicts
	owner := map[string]*index.Object{}
	var out []Finding
	for _, gw := range ix.Kind("Gateway") {
		if gw.Group != "networking.istio.io" {
			continue
		}
		selector := formatLabels(stringMap(mapOf(gw.Spec(), "selector")))
		for _, s := range listOf(gw.Spec(), "servers") {
			server, _ := s.(map[string]any)
			port, _ := number(mapOf(server, "port")["number"])
			for _, h := range listOf(server, "hosts") {
				host, _ := h.(string)
				key := selector + " " + strconv.FormatInt(port, 10) + " " + host
				if first, ok := owner[key]; ok && first != gw {
					out = append(out, c.findingIn(ix, gw, ix.FieldSource(gw, "spec", "servers"), "port %d host %q is already served by %s on the same gateway pods {%s}: Istio keeps one server; merge them", port, host, first.String(), selector))
					continue
				}
				owner[key] = gw
			}
		}
	}
	return out
}
