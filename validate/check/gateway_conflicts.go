package check

import (
	"strconv"

	"meshops.dev/meshops/validate/index"
)

// GatewayConflicts catches two Gateways claiming one host and port on one proxy.
var GatewayConflicts = catalogued("RT006")

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
					out = append(out, c.findingAt(ix, gw, []string{"spec", "servers"}, "port %d host %q is already served by %s on the same gateway pods {%s}: Istio keeps one server; merge them", port, host, first.String(), selector))
					continue
				}
				owner[key] = gw
			}
		}
	}
	return out
}

func init() {
	GatewayConflicts.Target = gatewayConflicts
}
