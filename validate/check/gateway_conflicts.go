package check

import (
	"strconv"

	"meshops.dev/meshops/validate/index"
)

// GatewayConflicts catches two Gateways claiming one host and port on one proxy.
var GatewayConflicts = &Check{
	Code:     "RT006",
	Name:     "gateway-conflict",
	Severity: Error,
	Summary:  "no two Gateways with the same selector serve the same host on the same port",
	Rationale: "Two Gateways that select the same gateway pods and claim the same port and host conflict: Istio keeps " +
		"one server and drops the other (istioctl analyze: IST0145).",
}

func gatewayConflicts(ix *index.Index, _ *Env) []Finding {
	c := GatewayConflicts
	owner := map[string]*index.Object{}
	var out []Finding
	for _, gw := range ix.Gateways() {
		selector := formatLabels(gw.Spec.GetSelector())
		for _, server := range gw.Spec.GetServers() {
			port := server.GetPort().GetNumber()
			for _, host := range server.GetHosts() {
				key := selector + " " + strconv.FormatUint(uint64(port), 10) + " " + host
				if first, ok := owner[key]; ok && first != gw.Object {
					out = append(out, c.findingAt(ix, gw.Object, []string{"spec", "servers"}, "port %d host %q is already served by %s on the same gateway pods {%s}: Istio keeps one server; merge them", port, host, first.String(), selector))
					continue
				}
				owner[key] = gw.Object
			}
		}
	}
	return out
}

func init() {
	GatewayConflicts.Target = gatewayConflicts
}
