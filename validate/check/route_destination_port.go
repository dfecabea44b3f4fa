package check

import (
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteDestinationPort catches a port the destination Service does not have.
var RouteDestinationPort = catalogued("RT004")

func routeDestinationPort(ix *index.Index, _ *Env) []Finding {
	c := RouteDestinationPort
	var out []Finding
	for _, vs := range ix.Kind("VirtualService") {
		for _, d := range destinations(vs) {
			svc, _ := serviceFor(ix, vs.Namespace, d.host)
			if svc == nil {
				continue
			}
			var ports []string
			found := false
			for _, p := range listOf(svc.Spec(), "ports") {
				port, _ := p.(map[string]any)
				n, _ := number(port["port"])
				ports = append(ports, strconv.FormatInt(n, 10))
				if d.set && n == d.port {
					found = true
				}
			}
			switch {
			case d.set && !found:
				out = append(out, c.findingAt(ix, vs, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination port %d is not a port of %s (it has %s)", d.path, d.port, svc.String(), strings.Join(ports, ", ")))
			case !d.set && len(ports) > 1:
				out = append(out, c.findingAt(ix, vs, []string{"spec", strings.SplitN(d.path, "[", 2)[0]}, "%s destination %s has ports %s: set destination.port.number", d.path, svc.String(), strings.Join(ports, ", ")))
			}
		}
	}
	return out
}

func init() {
	RouteDestinationPort.Target = routeDestinationPort
}
