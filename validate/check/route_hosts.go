package check

import (
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteHosts catches a VirtualService host its Gateway does not serve.
var RouteHosts = catalogued("RT002")

func init() { RouteHosts.Target = routeHosts }

// gatewayHosts lists the hosts of a Gateway's servers visible to namespace
// ns ("ns/host", "./host" and "*/host" forms).
func gatewayHosts(gw *index.Object, ns string) []string {
	var out []string
	for _, s := range listOf(gw.Spec(), "servers") {
		server, _ := s.(map[string]any)
		for _, h := range listOf(server, "hosts") {
			host, _ := h.(string)
			if i := strings.IndexByte(host, '/'); i >= 0 {
				scope := host[:i]
				if scope != "*" && !(scope == "." && ns == gw.Namespace) && scope != ns {
					continue
				}
				host = host[i+1:]
			}
			out = append(out, host)
		}
	}
	return out
}

func routeHosts(ix *index.Index, _ *Env) []Finding {
	c := RouteHosts
	var out []Finding
	for _, vs := range ix.Kind("VirtualService") {
		var gateways []*index.Object
		for _, ref := range virtualServiceGateways(vs) {
			ns, name := gatewayRef(vs.Namespace, ref)
			if gw := ix.Get("Gateway", ns, name); gw != nil {
				gateways = append(gateways, gw)
			}
		}
		if len(gateways) == 0 {
			continue
		}
		for _, h := range listOf(vs.Spec(), "hosts") {
			host, _ := h.(string)
			served := false
			var offered []string
			for _, gw := range gateways {
				for _, gh := range gatewayHosts(gw, vs.Namespace) {
					offered = append(offered, gh)
					if hostMatches(gh, host) {
						served = true
					}
				}
			}
			if !served {
				out = append(out, c.findingAt(ix, vs, []string{"spec", "hosts"}, "host %q is not served by its gateways (they serve %s): make the VirtualService and Gateway hosts agree", host, strings.Join(offered, ", ")))
			}
		}
	}
	return out
}
