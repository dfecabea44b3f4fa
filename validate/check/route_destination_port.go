package check

import (
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteDestinationPort catches a port the destination Service does not have.
var RouteDestinationPort = &Check{
	Code:     "RT004",
	Name:     "virtualservice-destination-port",
	Severity: Error,
	Summary:  "a route destination's port is a port of the destination Service, and is set when the Service has several",
	Rationale: "A destination port the Service does not expose routes to nothing (503); with several Service ports and no port, " +
		"Istio cannot pick one and the route is dropped.",
}

func routeDestinationPort(ix *index.Index, _ *Env) []Finding {
	c := RouteDestinationPort
	var out []Finding
	for _, vs := range ix.VirtualServices() {
		for _, d := range destinations(vs.Spec) {
			if d.set && d.port == 0 {
				continue // istiod refuses port 0 (validatePortSelector): IS002 reports it
			}
			svc, _ := serviceFor(ix, vs.Namespace, d.host)
			if svc == nil {
				continue
			}
			s, ok := decodeService(svc)
			if !ok {
				continue // K8S001 reports it
			}
			var listed []string
			found := false
			for _, p := range s.Spec.Ports {
				listed = append(listed, strconv.FormatInt(int64(p.Port), 10))
				if d.set && uint32(p.Port) == d.port {
					found = true
				}
			}
			switch {
			case d.set && !found:
				out = append(out, c.findingAt(ix, vs.Object, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination port %d is not a port of %s (it has %s)", d.path, d.port, svc.String(), strings.Join(listed, ", ")))
			case !d.set && len(listed) > 1:
				out = append(out, c.findingAt(ix, vs.Object, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination %s has ports %s: set destination.port.number", d.path, svc.String(), strings.Join(listed, ", ")))
			}
		}
	}
	return out
}

func init() {
	RouteDestinationPort.Target = routeDestinationPort
}
