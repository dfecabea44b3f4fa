package check

import (
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteDestinations catches routes to Services that do not exist.
var RouteDestinations = &Check{
	Code:     "RT003",
	Name:     "virtualservice-destination-missing",
	Severity: Error,
	Summary:  "every route destination host is a Service rendered in the overlay (short name, name.namespace or FQDN) or a ServiceEntry host",
	Rationale: "istiod accepts a route to an unknown host and Envoy answers 503 (no healthy upstream / cluster not found). " +
		"istioctl analyze without a cluster misses this when the Service is simply absent from the files given to it.",
}

func routeDestinations(ix *index.Index, _ *Env) []Finding {
	c := RouteDestinations
	var out []Finding
	for _, vs := range ix.VirtualServices() {
		for _, d := range destinations(vs.Spec) {
			svc, isService := serviceFor(ix, vs.Namespace, d.host)
			if svc != nil || serviceEntryFor(ix, d.host) != nil {
				continue
			}
			if isService || !strings.Contains(d.host, ".") || strings.Count(d.host, ".") == 1 {
				out = append(out, c.findingAt(ix, vs.Object, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination host %q is no Service in this overlay: check the name and namespace (short names resolve in namespace %s)", d.path, d.host, vs.Namespace))
			} else {
				out = append(out, c.findingAt(ix, vs.Object, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination host %q is neither a Service nor a ServiceEntry host in this overlay: add a ServiceEntry for the external host", d.path, d.host))
			}
		}
	}
	return out
}

func init() {
	RouteDestinations.Target = routeDestinations
}
