package check

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
)

// RouteHosts catches a VirtualService host its Gateway does not serve.
var RouteHosts = &Check{
	Code:     "RT002",
	Name:     "virtualservice-host-not-on-gateway",
	Severity: Error,
	Summary:  "every host of a VirtualService bound to a Gateway is served by one of that Gateway's servers",
	Rationale: "Istio only attaches a VirtualService host to a Gateway server whose hosts cover it. A host the Gateway does not " +
		"serve (a typo, or an overlay that patched one but not the other) gets no route at the ingress.",
}

func init() { RouteHosts.Target = routeHosts }

// gatewayHosts lists the hosts of a Gateway's servers visible to namespace
// ns ("ns/host", "./host" and "*/host" forms), and whether istiod refuses
// any of the Gateway's hosts (IS002 names it).
func gatewayHosts(gw gateway, ns string) (hosts []string, invalid bool) {
	for _, server := range gw.Spec.GetServers() {
		for _, host := range server.GetHosts() {
			if istio.GatewayHostError(host) != nil {
				invalid = true
				continue
			}
			if i := strings.IndexByte(host, '/'); i >= 0 {
				scope := host[:i]
				if scope != "*" && !(scope == "." && ns == gw.Namespace) && scope != ns {
					continue
				}
				host = host[i+1:]
			}
			hosts = append(hosts, host)
		}
	}
	return hosts, invalid
}

// routeHosts reports the hosts of a VirtualService that none of its
// gateways serves. It stays quiet where istiod's webhook refuses a host
// (IS002 reports it: one mistake, one finding): a VirtualService host it
// refuses, and every host of a VirtualService bound to a Gateway with a
// host it refuses, or to one that does not decode (IS001/IS002), since the
// refused host may be the one meant to serve it.
func routeHosts(ix *index.Index, _ *Env) []Finding {
	c := RouteHosts
	var out []Finding
	for _, vs := range ix.VirtualServices() {
		var gateways []gateway
		undecided := false
		for _, ref := range virtualServiceGateways(vs.Spec) {
			ns, name := gatewayRef(vs.Namespace, ref)
			o := ix.Get("Gateway", ns, name)
			if o == nil {
				continue // RT001
			}
			spec, ok := index.IstioSpec[*networking.Gateway](o)
			if !ok {
				undecided = true
				continue
			}
			gateways = append(gateways, gateway{Object: o, Spec: spec})
		}
		if len(gateways) == 0 || undecided {
			continue
		}
		var offered []string
		for _, gw := range gateways {
			hosts, invalid := gatewayHosts(gw, vs.Namespace)
			undecided = undecided || invalid
			offered = append(offered, hosts...)
		}
		for _, host := range vs.Spec.GetHosts() {
			served := false
			for _, gh := range offered {
				if hostMatches(gh, host) {
					served = true
				}
			}
			if served || undecided || istio.VirtualServiceHostError(vs.Spec, host) != nil {
				continue
			}
			out = append(out, c.findingAt(ix, vs.Object, []string{"spec", "hosts"}, "host %q is not served by its gateways (they serve %s): make the VirtualService and Gateway hosts agree", host, strings.Join(offered, ", ")))
		}
	}
	return out
}
