package check

import (
	"meshops.dev/meshops/validate/index"
)

// RouteGateways catches a VirtualService bound to a Gateway that does not exist.
var RouteGateways = &Check{
	Code:     "RT001",
	Name:     "virtualservice-gateway-missing",
	Severity: Error,
	Summary:  "every gateway a VirtualService names (name or namespace/name; mesh allowed) is a Gateway rendered in the overlay",
	Rationale: "istiod accepts a VirtualService bound to a Gateway that does not exist and programs no route: " +
		"the host answers 404 at the ingress. istioctl analyze reports this (IST0101) only against a live cluster's contents.",
}

func init() { RouteGateways.Target = routeGateways }

func routeGateways(ix *index.Index, _ *Env) []Finding {
	c := RouteGateways
	var out []Finding
	for _, vs := range ix.VirtualServices() {
		for _, ref := range virtualServiceGateways(vs.Spec) {
			ns, name := gatewayRef(vs.Namespace, ref)
			if ix.Get("Gateway", ns, name) == nil {
				out = append(out, c.findingAt(ix, vs.Object, []string{"spec", "gateways"}, "gateway %q resolves to Gateway %s/%s, which this overlay does not render: fix the name or deploy the Gateway", ref, ns, name))
			}
		}
	}
	return out
}
