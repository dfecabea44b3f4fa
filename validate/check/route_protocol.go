package check

import (
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteProtocol catches HTTP routes to ports Istio treats as opaque TCP.
var RouteProtocol = &Check{
	Code:     "RT007",
	Name:     "http-route-to-tcp-port",
	Severity: Error,
	Summary:  "an http route's destination port is not declared as a non-HTTP protocol (tcp, tls, mongo, mysql, redis, udp)",
	Rationale: "Istio handles a port named tcp (or with appProtocol tcp) as opaque TCP: http routes to it and HTTP WasmPlugins on " +
		"the pods behind it never apply, while the traffic still flows, so nothing fails visibly.",
}

func init() { RouteProtocol.Target = routeProtocol }

var opaqueProtocols = map[string]bool{"tcp": true, "tls": true, "mongo": true, "mysql": true, "redis": true, "udp": true}

// portProtocol is the protocol Istio selects for a Service port.
func portProtocol(name string, appProtocol *string) string {
	if appProtocol != nil {
		return strings.ToLower(*appProtocol)
	}
	p, _, _ := strings.Cut(name, "-")
	return strings.ToLower(p)
}

func routeProtocol(ix *index.Index, _ *Env) []Finding {
	c := RouteProtocol
	var out []Finding
	for _, vs := range ix.VirtualServices() {
		for _, d := range destinations(vs.Spec) {
			if !strings.HasPrefix(d.path, "http[") {
				continue
			}
			o, _ := serviceFor(ix, vs.Namespace, d.host)
			if o == nil {
				continue
			}
			svc, ok := decodeService(o)
			if !ok {
				continue
			}
			for _, p := range svc.Spec.Ports {
				if (!d.set && len(svc.Spec.Ports) == 1) || d.set && uint32(p.Port) == d.port {
					if proto := portProtocol(p.Name, p.AppProtocol); opaqueProtocols[proto] {
						out = append(out, c.findingAt(ix, o, []string{"spec", "ports"}, "port %d (%q) is declared %s, but %s routes HTTP to it from %s: Istio treats it as opaque TCP, so the route and HTTP WasmPlugins never apply; name it http", p.Port, p.Name, proto, vs.String(), d.path))
					}
				}
			}
		}
	}
	return out
}
