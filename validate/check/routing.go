package check

import (
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
)

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
func virtualServiceGateways(o *index.Object) []string {
	var out []string
	for _, g := range listOf(o.Spec(), "gateways") {
		if s, _ := g.(string); s != "" && s != "mesh" {
			out = append(out, s)
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
	for _, se := range ix.Kind("ServiceEntry") {
		for _, h := range listOf(se.Spec(), "hosts") {
			if s, _ := h.(string); hostMatches(s, host) {
				return se
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
	port int64
	set  bool // port.number is set
}

func destinations(o *index.Object) []destination {
	var out []destination
	for _, kind := range []string{"http", "tls", "tcp"} {
		for i, r := range listOf(o.Spec(), kind) {
			route, _ := r.(map[string]any)
			for j, d := range listOf(route, "route") {
				dm, _ := d.(map[string]any) // `route: [null]` decodes to a nil entry
				dest := mapOf(dm, "destination")
				if dest == nil {
					continue
				}
				dst := destination{path: kind + "[" + strconv.Itoa(i) + "].route[" + strconv.Itoa(j) + "]", host: str(dest, "host")}
				if n, ok := number(mapOf(dest, "port")["number"]); ok {
					dst.port, dst.set = n, true
				}
				out = append(out, dst)
			}
		}
	}
	return out
}

// number reads a JSON number that may have been decoded as int64 or float64.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}
