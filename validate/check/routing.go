package check

import (
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"meshops.dev/meshops/validate/index"
)

// virtualService is a VirtualService with its typed spec; one that does
// not decode strictly has none, and the route checks skip it (IS001/IS002
// report it).
type virtualService = index.Typed[*networking.VirtualService]

// gateway is a networking.istio.io Gateway with its typed spec.
type gateway = index.Typed[*networking.Gateway]

// gatewayRef resolves a VirtualService gateways entry ("name" or "ns/name")
// to namespace and name.
func gatewayRef(vsNamespace, ref string) (ns, name string) {
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	return vsNamespace, ref
}

// virtualServiceGateways returns each gateways entry of a VirtualService
// (spec.gateways and every http/tls/tcp match's gateways), "mesh" excluded.
func virtualServiceGateways(vs *networking.VirtualService) []string {
	var out []string
	for _, g := range vs.GetGateways() {
		if g != "" && g != "mesh" {
			out = append(out, g)
		}
	}
	return out
}

// serviceFor resolves a destination host to a rendered Service, the way
// Istio expands short names in the VirtualService's namespace.
func serviceFor(ix *index.Index, vsNamespace, host string) (*index.Object, bool) {
	h := strings.TrimSuffix(host, ".svc.cluster.local")
	h = strings.TrimSuffix(h, ".svc")
	parts := strings.Split(h, ".")
	switch len(parts) {
	case 1:
		return ix.Get("Service", vsNamespace, parts[0]), true
	case 2:
		return ix.Get("Service", parts[1], parts[0]), true
	}
	return nil, strings.HasSuffix(host, ".svc.cluster.local") || strings.HasSuffix(host, ".svc")
}

// serviceEntryFor returns a rendered ServiceEntry that declares host.
func serviceEntryFor(ix *index.Index, host string) *index.Object {
	for _, se := range ix.ServiceEntries() {
		for _, h := range se.Spec.GetHosts() {
			if hostMatches(h, host) {
				return se.Object
			}
		}
	}
	return nil
}

// hostMatches reports whether pattern (possibly "*" or "*.example.com")
// covers host.
func hostMatches(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == host:
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(host, pattern[1:])
	case strings.HasPrefix(host, "*."):
		return strings.HasSuffix(pattern, host[1:])
	}
	return false
}

// destination is one route destination of a VirtualService.
type destination struct {
	path string // "http[0].route[1]"
	host string
	port uint32
	set  bool // port is set
}

// destinations returns the route destinations of every http, tls and tcp
// route, in that order.
func destinations(vs *networking.VirtualService) []destination {
	var out []destination
	add := func(kind string, i, j int, d *networking.Destination) {
		if d == nil {
			return
		}
		out = append(out, destination{path: kind + "[" + strconv.Itoa(i) + "].route[" + strconv.Itoa(j) + "]",
			host: d.GetHost(), port: d.GetPort().GetNumber(), set: d.GetPort() != nil})
	}
	for i, r := range vs.GetHttp() {
		for j, d := range r.GetRoute() {
			add("http", i, j, d.GetDestination())
		}
	}
	for i, r := range vs.GetTls() {
		for j, d := range r.GetRoute() {
			add("tls", i, j, d.GetDestination())
		}
	}
	for i, r := range vs.GetTcp() {
		for j, d := range r.GetRoute() {
			add("tcp", i, j, d.GetDestination())
		}
	}
	return out
}
