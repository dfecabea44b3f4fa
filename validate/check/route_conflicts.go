package check

import (
	"slices"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"meshops.dev/meshops/validate/index"
)

// RouteConflicts catches two VirtualServices claiming one host on the mesh
// gateway, as istioctl analyze's IST0109 does.
var RouteConflicts = &Check{
	Code:     "RT005",
	Name:     "virtualservice-host-conflict",
	Severity: Error,
	Summary:  "no two VirtualServices bound to the mesh gateway (sidecars) claim the same host for the same namespaces",
	Rationale: "For sidecars Istio uses one VirtualService per host and drops the other's routes, so which one wins depends " +
		"on creation order (istioctl analyze: IST0109). On an ingress gateway Istio merges VirtualServices for one host " +
		"(pilot/pkg/networking/core/gateway.go appends their routes), so that case is accepted.",
}

// meshHostKey is one host as the mesh gateway sees it: the namespace it is
// exported to ("*" for all) and its fully qualified name.
type meshHostKey struct{ scope, fqdn string }

func routeConflicts(ix *index.Index, _ *Env) []Finding {
	c := RouteConflicts
	claims := map[meshHostKey][]*index.Object{}
	for _, vs := range ix.VirtualServices() {
		if !boundToMesh(vs.Spec) {
			continue
		}
		for _, scope := range exportScopes(vs) {
			for _, host := range vs.Spec.GetHosts() {
				k := meshHostKey{scope, meshFQDN(host, vs.Namespace)}
				if !containsObject(claims[k], vs.Object) {
					claims[k] = append(claims[k], vs.Object)
				}
			}
		}
	}
	keys := make([]meshHostKey, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].scope+" "+keys[i].fqdn < keys[j].scope+" "+keys[j].fqdn })
	reported := map[*index.Object]bool{}
	var out []Finding
	for _, k := range keys {
		list := append([]*index.Object(nil), claims[k]...)
		if k.scope != "*" { // a host exported everywhere also reaches this namespace
			for _, vs := range claims[meshHostKey{"*", k.fqdn}] {
				if !containsObject(list, vs) {
					list = append(list, vs)
				}
			}
		}
		if len(list) < 2 {
			continue
		}
		names := make([]string, len(list))
		for i, vs := range list {
			names[i] = vs.String()
		}
		sort.Strings(names)
		for _, vs := range list {
			if reported[vs] {
				continue
			}
			reported[vs] = true
			out = append(out, c.findingAt(ix, vs, []string{"spec", "hosts"}, "host %q on the mesh gateway is claimed by %s: sidecars use only one of them and drop the other's routes; merge the routes into one VirtualService", k.fqdn, strings.Join(names, ", ")))
		}
	}
	return out
}

// boundToMesh reports whether a VirtualService applies to sidecars: it names
// no gateway (the default is "mesh") or names "mesh".
func boundToMesh(vs *networking.VirtualService) bool {
	gws := vs.GetGateways()
	return len(gws) == 0 || slices.Contains(gws, "mesh")
}

// exportScopes returns the namespaces a VirtualService is exported to, "*"
// for all (no exportTo, or one that lists "*"); "." is its own namespace.
func exportScopes(vs virtualService) []string {
	list := vs.Spec.GetExportTo()
	if len(list) == 0 {
		return []string{"*"}
	}
	var out []string
	for _, s := range list {
		switch s {
		case "*":
			return []string{"*"}
		case ".":
			s = vs.Namespace
		}
		out = append(out, s)
	}
	return out
}

// meshFQDN expands a short host name in the VirtualService's namespace, as
// Istio's analyzer does (util.NewScopedFqdn).
func meshFQDN(host, namespace string) string {
	if strings.HasPrefix(host, "*") || strings.Contains(host, ".") {
		return host
	}
	return host + "." + namespace + ".svc.cluster.local"
}

func containsObject(list []*index.Object, o *index.Object) bool {
	for _, x := range list {
		if x == o {
			return true
		}
	}
	return false
}

func init() {
	RouteConflicts.Target = routeConflicts
}
