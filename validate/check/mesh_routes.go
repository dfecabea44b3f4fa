package check

import (
	"fmt"
	"slices"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// RouteSubset catches a route to a subset no DestinationRule defines.
var RouteSubset = catalogued("RT008")

// RouteReach catches a Gateway host that reaches no route or no endpoint.
var RouteReach = catalogued("RT009")

// GatewaySelector catches a Gateway that selects no ingress gateway.
var GatewaySelector = catalogued("RT010")

// PilotFailed reports that istiod's code could not answer for a target.
var PilotFailed = catalogued("IS004")

func init() {
	RouteSubset.Target = routeSubset
	RouteReach.Target = routeReach
	GatewaySelector.Target = gatewaySelector
	PilotFailed.Target = pilotFailed
}

// gatewayRoutes returns every simulated request of the target's answer.
func gatewayRoutes(ix *index.Index, env *Env) []struct {
	gw *mesh.Gateway
	r  *mesh.Route
} {
	ans, err := env.Mesh.Answer(ix)
	if ans == nil || err != nil {
		return nil
	}
	var out []struct {
		gw *mesh.Gateway
		r  *mesh.Route
	}
	for _, g := range ans.Gateways {
		for _, r := range g.Routes {
			out = append(out, struct {
				gw *mesh.Gateway
				r  *mesh.Route
			}{g, r})
		}
	}
	return out
}

func routeSubset(ix *index.Index, env *Env) []Finding {
	c := RouteSubset
	var out []Finding
	seen := map[string]bool{}
	for _, gr := range gatewayRoutes(ix, env) {
		r := gr.r
		if !r.ClusterMissing || r.Subset == "" || seen[r.Cluster] {
			continue
		}
		seen[r.Cluster] = true
		_, _, host, port := splitCluster(r.Cluster)
		o := r.VirtualService
		if o == nil {
			o = routeOwner(ix, r)
		}
		if o == nil {
			continue
		}
		out = append(out, c.findingAt(ix, o, []string{"spec", "http", "route", "destination", "subset"},
			"a request to %s%s through %s is routed to subset %q of %s (port %s), which no DestinationRule defines: istiod pushes no cluster %s and Envoy answers 503; define the subset in a DestinationRule for %s or drop subset from the route",
			r.Host, r.Path, gr.gw.Name, r.Subset, host, port, r.Cluster, host))
	}
	return out
}

// routeOwner finds a VirtualService that routes r's host.
func routeOwner(ix *index.Index, r *mesh.Route) *index.Object {
	for _, vs := range ix.VirtualServices() {
		if slices.Contains(vs.Spec.GetHosts(), r.Host) {
			return vs.Object
		}
	}
	return nil
}

func splitCluster(name string) (dir, subset, host, port string) {
	parts := strings.SplitN(name, "|", 4)
	if len(parts) != 4 {
		return "", "", name, ""
	}
	return parts[0], parts[2], parts[3], parts[1]
}

func routeReach(ix *index.Index, env *Env) []Finding {
	c := RouteReach
	var out []Finding
	for _, gr := range gatewayRoutes(ix, env) {
		r := gr.r
		switch {
		case r.Error != "" && (r.Port == 0 || r.Listener == "" || hostNamedElsewhere(ix, gr.gw, r.Host)):
			// IS002 (bad port), RT001/RT002 (a VirtualService meant for it) or RT006 (another Gateway) names the cause.
		case r.Error != "":
			o := r.VirtualService
			msg := fmt.Sprintf("a request to http://%s%s (port %d) at %s matches no route (%s): Envoy answers 404", r.Host, r.Path, r.Port, gr.gw.Name, r.Error)
			if o == nil {
				o = serverOwner(gr.gw, r.Host)
				if o == nil || !rt009Owns(ix, o) {
					continue
				}
				out = append(out, c.findingAt(ix, o, []string{"spec", "servers", "hosts"}, "%s; bind a VirtualService for host %s to Gateway %s, or drop the host from the Gateway", msg, r.Host, o.Name))
				continue
			}
			out = append(out, c.findingAt(ix, o, []string{"spec", "http"}, "%s; make a route of %s match it", msg, o.String()))
		case false && r.Cluster != "" && !r.ClusterMissing && len(r.Endpoints) == 0:
			// Disabled: a Service without endpoints is WL001/WL002's finding, at the Service.
			_, _, host, port := splitCluster(r.Cluster)
			o := r.VirtualService
			if o == nil {
				o = routeOwner(ix, r)
			}
			svc := clusterService(ix, host)
			if svc != nil {
				o = svc
			}
			if o == nil {
				continue
			}
			out = append(out, c.finding(ix, o, "a request to http://%s%s at %s is routed to %s port %s, which has no ready endpoint in istiod's view: Envoy answers 503; make the Service's selector and targetPort match a workload's pod labels and container ports",
				r.Host, r.Path, gr.gw.Name, host, port))
		}
	}
	return out
}

// clusterService finds the Service of a cluster host (name.namespace.svc.<domain>).
func clusterService(ix *index.Index, host string) *index.Object {
	parts := strings.Split(host, ".")
	if len(parts) < 3 || parts[2] != "svc" {
		return nil
	}
	return ix.Get("Service", parts[1], parts[0])
}

func serverOwner(gw *mesh.Gateway, host string) *index.Object {
	for _, s := range gw.Servers {
		for _, h := range s.Hosts {
			if _, name, ok := strings.Cut(h, "/"); ok {
				h = name
			}
			if h == host {
				return s.Gateway
			}
		}
	}
	return nil
}

func gatewaySelector(ix *index.Index, env *Env) []Finding {
	c := GatewaySelector
	if env.Mesh == nil {
		return nil
	}
	p := env.Mesh.PlatformFor(ix)
	var out []Finding
	for _, gw := range ix.Gateways() {
		o, sel := gw.Object, gw.Spec.GetSelector()
		if len(p.GatewaysSelected(sel)) > 0 {
			continue
		}
		deployed := false
		for _, w := range ix.Workloads("") {
			if subset(sel, w.Template.Labels) {
				deployed = true
			}
		}
		if deployed {
			continue
		}
		var have []string
		for _, g := range p.IngressGateways {
			have = append(have, fmt.Sprintf("%s {%s}", g, formatLabels(g.Labels)))
		}
		from := "Istio's default profile (no " + mesh.PlatformFile + ")"
		if p.File != "" {
			from = p.File
		}
		for _, g := range p.IngressGateways {
			if g.File != "" && g.File != p.File {
				from = "the repository's Istio releases"
				break
			}
		}
		out = append(out, c.findingAt(ix, o, []string{"spec", "selector"},
			"selector {%s} matches no ingress gateway the clusters run: %s declares %s; no Envoy serves this Gateway's hosts. Fix the selector, or declare the gateway in %s",
			formatLabels(sel), from, orNone(have), mesh.PlatformFile))
	}
	return out
}

func pilotFailed(ix *index.Index, env *Env) []Finding {
	_, err := env.Mesh.Answer(ix)
	if err == nil {
		return nil
	}
	c := PilotFailed
	file := ix.Target.Dir
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if env.Tree != nil && env.Tree.Exists(file+"/"+name) {
			file += "/" + name
			break
		}
	}
	f := Finding{Code: c.Code, Severity: c.Severity, Target: ix.Target.Dir, File: file,
		Message: oneLine(fmt.Sprintf("istiod's code (%s) could not build this target's configuration, so the WasmPlugin and route answers are missing: %v", mesh.Describe(), err))}
	if first, second := declaredTwice(ix); second != nil {
		f = c.finding(ix, second, "%s is declared twice, as %s/%s and as %s/%s: the API server and istiod keep one object per group, kind, namespace and name, so one declaration silently replaces the other; keep one. %s",
			second.String(), first.Group, first.Version, second.Group, second.Version, f.Message)
		if line := versionLine(env.Tree, second.Source, second); line > 0 {
			f.Line = line
		}
	}
	return []Finding{f}
}

// hostNamedElsewhere reports whether a VirtualService names host, or more
// than one Gateway server of the gateway lists it: another check owns the cause.
func hostNamedElsewhere(ix *index.Index, gw *mesh.Gateway, host string) bool {
	for _, vs := range ix.VirtualServices() {
		if slices.Contains(vs.Spec.GetHosts(), host) {
			return true
		}
	}
	n := 0
	for _, s := range gw.Servers {
		for _, h := range s.Hosts {
			if _, name, ok := strings.Cut(h, "/"); ok {
				h = name
			}
			if h == host {
				n++
			}
		}
	}
	return n > 1
}

// rt009Owns reports whether an unrouted host of Gateway gw is RT009's to
// report: some VirtualService binds gw (else RT001 or RT006 names the cause)
// and every host those VirtualServices name is one gw serves (else RT002 does).
func rt009Owns(ix *index.Index, gw *index.Object) bool {
	spec, ok := index.IstioSpec[*networking.Gateway](gw)
	if !ok {
		return false // IS001/IS002 report the Gateway
	}
	bound := false
	for _, vs := range ix.VirtualServices() {
		for _, ref := range virtualServiceGateways(vs.Spec) {
			ns, name := gatewayRef(vs.Namespace, ref)
			if ns != gw.Namespace || name != gw.Name {
				continue
			}
			bound = true
			for _, host := range vs.Spec.GetHosts() {
				served := false
				for _, srv := range spec.GetServers() {
					for _, g := range srv.GetHosts() {
						if _, n, ok := strings.Cut(g, "/"); ok {
							g = n
						}
						if g == host || g == "*" || (strings.HasPrefix(g, "*.") && strings.HasSuffix(host, g[1:])) {
							served = true
						}
					}
				}
				if !served {
					return false
				}
			}
		}
	}
	return bound
}
