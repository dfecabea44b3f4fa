package check

import (
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// RouteNoCluster reports a request through the ingress gateway whose route
// names a cluster istiod does not push to the gateway, for any reason but a
// subset (RT008): the answer is the one make explain prints ("istiod pushes
// no cluster ...: Envoy answers 503"), taken from the same simulation.
//
// The usual cause is a Service the gateway cannot see: istiod gives a proxy
// only the services exported to its namespace
// (pilot/pkg/model/push_context.go, servicesExportedToNamespace reads the
// networking.istio.io/exportTo annotation, "." meaning the Service's own
// namespace), and the route translation still names the outbound cluster of
// the destination host (pilot/pkg/networking/core/route/route.go), which CDS
// then lacks: Envoy answers 503 (cluster not found).
var RouteNoCluster = catalogued("RT011")

func init() { RouteNoCluster.Target = routeNoCluster }

func routeNoCluster(ix *index.Index, env *Env) []Finding {
	c := RouteNoCluster
	var out []Finding
	seen := map[string]bool{}
	for _, gr := range gatewayRoutes(ix, env) {
		r := gr.r
		if !r.ClusterMissing || r.Subset != "" || seen[gr.gw.Name+" "+r.Cluster] {
			continue
		}
		seen[gr.gw.Name+" "+r.Cluster] = true
		_, _, host, port := splitCluster(r.Cluster)
		gwNS, _, _ := strings.Cut(gr.gw.Name, "/")
		svc := clusterService(ix, host)
		if svc == nil {
			continue // RT003: the destination is no Service of the target
		}
		if to, ok := svc.Annotations()["networking.istio.io/exportTo"]; ok && !exportedTo(to, svc.Namespace, gwNS) {
			out = append(out, c.findingAt(ix, svc, []string{"metadata", "annotations", "networking.istio.io/exportTo"},
				"a request to http://%s%s through %s is routed to %s port %s, but networking.istio.io/exportTo: %q hides the Service from the gateway's namespace %s: istiod pushes it no cluster %s and Envoy answers 503; export the Service to %s (or \"*\")",
				r.Host, r.Path, gr.gw.Name, host, port, to, gwNS, r.Cluster, gwNS))
			continue
		}
		if !servicePort(svc, port) {
			continue // RT004: the route's port is not one of the Service's
		}
		o := r.VirtualService
		if o == nil {
			o = routeOwner(ix, r)
		}
		if o == nil {
			o = svc
		}
		out = append(out, c.findingAt(ix, o, []string{"spec", "http", "route", "destination", "host"},
			"a request to http://%s%s through %s is routed to %s port %s, whose cluster %s istiod does not push to the gateway: Envoy answers 503",
			r.Host, r.Path, gr.gw.Name, host, port, r.Cluster))
	}
	return out
}

// exportedTo reports whether an exportTo list ("." own namespace, "*" all,
// or namespaces, comma-separated) lets namespace ns see a Service of own.
func exportedTo(list, own, ns string) bool {
	for _, e := range strings.Split(list, ",") {
		switch e = strings.TrimSpace(e); e {
		case "*":
			return true
		case ".":
			if ns == own {
				return true
			}
		case ns:
			return true
		}
	}
	return false
}

// servicePort reports whether a Service declares port (a number, as text).
func servicePort(svc *index.Object, port string) bool {
	s, ok := decodeService(svc)
	if !ok {
		return false
	}
	for _, p := range s.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return true
		}
	}
	return false
}
