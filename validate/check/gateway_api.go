package check

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// The Kubernetes Gateway API (sigs.k8s.io/gateway-api at the version
// istio.io/istio pins): the CRDs' admission, then what istiod's gateway
// controller makes of the objects, read from the route status it writes
// (pilot/pkg/config/kube/gateway: computeRoute, createRouteStatus) and from
// the clusters it pushes to the gateway it deploys.
var (
	GatewayAPISchema       = catalogued("GWA001")
	GatewayAPIClass        = catalogued("GWA002")
	GatewayAPIParent       = catalogued("GWA003")
	GatewayAPINotAllowed   = catalogued("GWA004")
	GatewayAPIBackend      = catalogued("GWA005")
	GatewayAPIBackendPort  = catalogued("GWA006")
	GatewayAPIRefPermitted = catalogued("GWA007")
	GatewayAPIBackendKind  = catalogued("GWA008")
	GatewayAPIHostname     = catalogued("GWA009")
)

func init() {
	GatewayAPISchema.Target = gatewayAPISchema
	GatewayAPIClass.Target = gatewayAPIClass
	GatewayAPIParent.Target = func(ix *index.Index, env *Env) []Finding { return routeFindings(ix, env, GatewayAPIParent) }
	GatewayAPINotAllowed.Target = func(ix *index.Index, env *Env) []Finding { return routeFindings(ix, env, GatewayAPINotAllowed) }
	GatewayAPIBackend.Target = func(ix *index.Index, env *Env) []Finding { return routeFindings(ix, env, GatewayAPIBackend) }
	GatewayAPIBackendPort.Target = gatewayAPIBackendPort
	GatewayAPIRefPermitted.Target = func(ix *index.Index, env *Env) []Finding {
		return routeFindings(ix, env, GatewayAPIRefPermitted)
	}
	GatewayAPIBackendKind.Target = func(ix *index.Index, env *Env) []Finding { return routeFindings(ix, env, GatewayAPIBackendKind) }
	GatewayAPIHostname.Target = func(ix *index.Index, env *Env) []Finding { return routeFindings(ix, env, GatewayAPIHostname) }
}

func gatewayAPISchema(ix *index.Index, env *Env) []Finding {
	c := GatewayAPISchema
	var out []Finding
	for _, o := range ix.Objects {
		if o.Group != index.GatewayAPIGroup || o.Content == nil || env.GatewayAPI == nil || !env.GatewayAPI.ServesGroupKind(o.Group, o.Kind) {
			continue
		}
		if err := env.GatewayAPI.Validate(o.Content); err != nil {
			out = append(out, c.findingAt(ix, o, messageField(err.Error()), "rejected by the Gateway API's %s CRD: %v", o.Kind, err))
		}
	}
	return out
}

func gatewayAPIClass(ix *index.Index, _ *Env) []Finding {
	c := GatewayAPIClass
	var out []Finding
	for _, g := range ix.KubeGateways() {
		class := string(g.Value.Spec.GatewayClassName)
		if _, ok := mesh.GatewayClassController(ix, class); ok {
			continue
		}
		var rendered []string
		for _, gc := range ix.GatewayClasses() {
			rendered = append(rendered, gc.Value.Name)
		}
		out = append(out, c.findingAt(ix, g.Object, []string{"spec", "gatewayClassName"},
			"gatewayClassName %q names no GatewayClass: this overlay renders %s and istiod creates %s, so no controller programs Gateway %s and the routes that name it attach nowhere; use gatewayClassName: istio",
			class, orNone(rendered), strings.Join(mesh.ManagedGatewayClasses(), ", "), g.Object.String()))
	}
	return out
}

// route is an HTTPRoute or GRPCRoute with what the checks read of it.
type route struct {
	o         *index.Object
	parents   []gatewayv1.ParentReference
	hostnames []gatewayv1.Hostname
	backends  [][]gatewayv1.BackendRef // per rule
}

func routesOf(ix *index.Index) []route {
	var out []route
	for _, r := range ix.HTTPRoutes() {
		rt := route{o: r.Object, parents: r.Value.Spec.ParentRefs, hostnames: r.Value.Spec.Hostnames}
		for _, rule := range r.Value.Spec.Rules {
			var refs []gatewayv1.BackendRef
			for _, b := range rule.BackendRefs {
				refs = append(refs, b.BackendRef)
			}
			rt.backends = append(rt.backends, refs)
		}
		out = append(out, rt)
	}
	for _, r := range ix.GRPCRoutes() {
		rt := route{o: r.Object, parents: r.Value.Spec.ParentRefs, hostnames: r.Value.Spec.Hostnames}
		for _, rule := range r.Value.Spec.Rules {
			var refs []gatewayv1.BackendRef
			for _, b := range rule.BackendRefs {
				refs = append(refs, b.BackendRef)
			}
			rt.backends = append(rt.backends, refs)
		}
		out = append(out, rt)
	}
	return out
}

// parentGateway returns the Gateway a parentRef names, whether it names a
// Gateway at all, and the namespace/name it names.
func parentGateway(ix *index.Index, routeNS string, p gatewayv1.ParentReference) (*index.KubeTyped[*gatewayv1.Gateway], bool, string) {
	if p.Group != nil && *p.Group != gatewayv1.GroupName || p.Kind != nil && *p.Kind != "Gateway" {
		return nil, false, ""
	}
	ns := routeNS
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	key := ns + "/" + string(p.Name)
	for _, g := range ix.KubeGateways() {
		gns := g.Object.Namespace
		if gns == "" {
			gns = "default" // as istiod reads an object without namespace
		}
		if gns == ns && g.Object.Name == string(p.Name) {
			return &g, true, key
		}
	}
	return nil, true, key
}

// routeStatus returns istiod's status of a route, or nil.
func routeStatus(ans *mesh.Answer, o *index.Object) *mesh.RouteStatus {
	for _, rs := range ans.RouteStatuses {
		if rs.Object == o {
			return rs
		}
	}
	return nil
}

// condition returns a parent status's condition of type typ, or nil.
func condition(ps gatewayv1.RouteParentStatus, typ gatewayv1.RouteConditionType) *metav1.Condition {
	for i := range ps.Conditions {
		if ps.Conditions[i].Type == string(typ) {
			return &ps.Conditions[i]
		}
	}
	return nil
}

// routeFindings reports, for check c, what istiod's route status says is
// wrong with each parentRef and backendRef: Accepted False with reason
// NoMatchingParent (GWA003), NotAllowedByListeners (GWA004) or
// NoMatchingListenerHostname (GWA009); ResolvedRefs False with reason
// BackendNotFound (GWA005), RefNotPermitted (GWA007) or InvalidKind
// (GWA008). A parentRef naming a Gateway the overlay does not render gets
// no status from istiod (extractParentReferenceInfo finds no parent and
// skips it): GWA003 reports it from the index.
func routeFindings(ix *index.Index, env *Env, c *Check) []Finding {
	ans, err := env.Mesh.Answer(ix)
	if ans == nil || err != nil {
		return nil
	}
	var out []Finding
	for _, r := range routesOf(ix) {
		ns := r.o.Namespace
		if ns == "" {
			ns = "default"
		}
		rs := routeStatus(ans, r.o)
		for i, p := range r.parents {
			at := []string{"spec", "parentRefs", strconv.Itoa(i)}
			gw, isGateway, key := parentGateway(ix, ns, p)
			if !isGateway {
				continue
			}
			if gw == nil {
				if c == GatewayAPIParent {
					out = append(out, c.findingAt(ix, r.o, append(at, "name"),
						"parentRefs[%d] names Gateway %s, which this overlay does not render: istiod attaches %s to no gateway and writes no status for it, so no request reaches it; name a rendered Gateway (%s)",
						i, key, r.o.String(), orNone(gatewayNames(ix))))
				}
				continue
			}
			if rs == nil {
				continue
			}
			for _, ps := range rs.Parents {
				if !reflect.DeepEqual(ps.ParentRef, p) {
					continue
				}
				if cond := condition(ps, gatewayv1.RouteConditionAccepted); cond != nil && cond.Status == metav1.ConditionFalse {
					switch {
					case c == GatewayAPIParent && cond.Reason == string(gatewayv1.RouteReasonNoMatchingParent):
						field := "sectionName"
						if p.SectionName == nil && p.Port != nil {
							field = "port"
						}
						out = append(out, c.findingAt(ix, r.o, append(at, field),
							"istiod does not accept parentRefs[%d] (Gateway %s): %s (%s); the Gateway's listeners are %s; name one of them, or drop %s",
							i, key, cond.Message, cond.Reason, listeners(gw.Value), field))
					case c == GatewayAPINotAllowed && cond.Reason == string(gatewayv1.RouteReasonNotAllowedByListeners):
						out = append(out, c.findingAt(ix, r.o, at,
							"istiod does not accept parentRefs[%d] (Gateway %s): %s (%s): a listener admits routes of its own namespace unless its allowedRoutes.namespaces says otherwise; set allowedRoutes on the Gateway's listener, or create %s in namespace %s",
							i, key, cond.Message, cond.Reason, r.o.String(), gw.Object.Namespace))
					case c == GatewayAPIHostname && cond.Reason == string(gatewayv1.RouteReasonNoMatchingListenerHostname):
						out = append(out, c.findingAt(ix, r.o, []string{"spec", "hostnames"},
							"istiod does not accept parentRefs[%d] (Gateway %s): %s (%s); the listeners' hostnames are %s; make a hostname match one",
							i, key, cond.Message, cond.Reason, listeners(gw.Value)))
					}
				}
				if cond := condition(ps, gatewayv1.RouteConditionResolvedRefs); cond != nil && cond.Status == metav1.ConditionFalse {
					var want gatewayv1.RouteConditionReason
					switch c {
					case GatewayAPIBackend:
						want = gatewayv1.RouteReasonBackendNotFound
					case GatewayAPIRefPermitted:
						want = gatewayv1.RouteReasonRefNotPermitted
					case GatewayAPIBackendKind:
						want = gatewayv1.RouteReasonInvalidKind
					default:
						continue
					}
					if cond.Reason != string(want) {
						continue
					}
					field, what := backendField(r, ns, want, cond.Message)
					fix := map[gatewayv1.RouteConditionReason]string{
						gatewayv1.RouteReasonBackendNotFound: "name a Service the overlay renders (" + orNone(serviceNames(ix)) + ")",
						gatewayv1.RouteReasonRefNotPermitted: "add a ReferenceGrant in the backend's namespace from " + r.o.Kind + " in namespace " + ns + " to Service",
						gatewayv1.RouteReasonInvalidKind:     "reference a core Service (group \"\", kind Service)",
					}[want]
					out = append(out, c.findingAt(ix, r.o, field,
						"istiod does not resolve the backendRefs of %s%s: %s (%s), so the requests the rule matches reach no backend (Envoy answers 5xx); %s",
						r.o.String(), what, cond.Message, cond.Reason, fix))
				}
			}
		}
	}
	return dedupeFindings(out)
}

// backendField returns the path of the backendRef a ResolvedRefs reason is
// about, as istiod checks each (buildDestination): the first one that
// crosses namespaces (RefNotPermitted), is of another kind (InvalidKind), or
// whose Service istiod's message names (BackendNotFound).
func backendField(r route, ns string, reason gatewayv1.RouteConditionReason, msg string) ([]string, string) {
	for j, refs := range r.backends {
		for k, b := range refs {
			core := (b.Group == nil || *b.Group == "") && (b.Kind == nil || *b.Kind == "Service")
			bns := ns
			if b.Namespace != nil {
				bns = string(*b.Namespace)
			}
			hit := false
			switch reason {
			case gatewayv1.RouteReasonRefNotPermitted:
				hit = bns != ns
			case gatewayv1.RouteReasonInvalidKind:
				hit = !core
			case gatewayv1.RouteReasonBackendNotFound:
				hit = core && strings.Contains(msg, "("+string(b.Name)+"."+bns+".")
			}
			if hit {
				path := []string{"spec", "rules", strconv.Itoa(j), "backendRefs", strconv.Itoa(k)}
				if reason == gatewayv1.RouteReasonRefNotPermitted {
					path = append(path, "namespace")
				} else if reason == gatewayv1.RouteReasonInvalidKind {
					path = append(path, "kind")
				} else {
					path = append(path, "name")
				}
				return path, fmt.Sprintf(" (rules[%d].backendRefs[%d], %s/%s)", j, k, bns, b.Name)
			}
		}
	}
	return []string{"spec", "rules"}, ""
}

// gatewayAPIBackendPort reports a backendRef to a Service on a port the
// Service does not have (the container port 8080 rather than the Service
// port 80, say). istiod accepts it (buildDestination checks that the
// Service exists, not its port) and routes to outbound|<port>||<host>, a
// cluster it never pushes: read from the clusters of the gateway it
// deploys for the route's parent, where Envoy answers 503 (no cluster).
func gatewayAPIBackendPort(ix *index.Index, env *Env) []Finding {
	c := GatewayAPIBackendPort
	ans, err := env.Mesh.Answer(ix)
	if ans == nil || err != nil {
		return nil
	}
	var out []Finding
	for _, r := range routesOf(ix) {
		ns := r.o.Namespace
		if ns == "" {
			ns = "default"
		}
		var gws []*mesh.Gateway
		for _, p := range r.parents {
			if gw, _, _ := parentGateway(ix, ns, p); gw != nil {
				for _, g := range ans.Gateways {
					if g.Kube != nil && g.Kube.Object == gw.Object {
						gws = append(gws, g)
					}
				}
			}
		}
		if len(gws) == 0 {
			continue
		}
		for j, refs := range r.backends {
			for k, b := range refs {
				if b.Group != nil && *b.Group != "" || b.Kind != nil && *b.Kind != "Service" || b.Port == nil {
					continue
				}
				bns := ns
				if b.Namespace != nil {
					bns = string(*b.Namespace)
				}
				svc := ix.Get("Service", bns, string(b.Name))
				if svc == nil {
					continue // GWA005
				}
				cluster := fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", *b.Port, b.Name, bns)
				if hasPort(svc, int(*b.Port)) || slices.ContainsFunc(gws, func(g *mesh.Gateway) bool { return g.Clusters[cluster] }) {
					continue // a cluster hidden from the gateway (exportTo) is not a port mistake
				}
				out = append(out, c.findingAt(ix, r.o, []string{"spec", "rules", strconv.Itoa(j), "backendRefs", strconv.Itoa(k), "port"},
					"rules[%d].backendRefs[%d] sends to port %d of Service %s, which has no such port (its ports: %s): istiod routes to cluster %s, which it does not push to gateway %s, and Envoy answers 503 (no cluster); use the Service's port, not the container's",
					j, k, *b.Port, svc.Namespace+"/"+svc.Name, servicePorts(svc), cluster, gws[0].Name))
			}
		}
	}
	return out
}

// hasPort reports whether a Service declares port.
func hasPort(svc *index.Object, port int) bool {
	ports, _ := svc.Spec()["ports"].([]any)
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		if fmt.Sprint(pm["port"]) == strconv.Itoa(port) {
			return true
		}
	}
	return false
}

func servicePorts(svc *index.Object) string {
	ports, _ := svc.Spec()["ports"].([]any)
	var out []string
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		s := fmt.Sprint(pm["port"])
		if n, ok := pm["name"].(string); ok && n != "" {
			s += " (" + n + ")"
		}
		out = append(out, s)
	}
	return orNone(out)
}

func listeners(g *gatewayv1.Gateway) string {
	var out []string
	for _, l := range g.Spec.Listeners {
		s := fmt.Sprintf("%s (port %d", l.Name, l.Port)
		if l.Hostname != nil {
			s += ", hostname " + string(*l.Hostname)
		}
		out = append(out, s+")")
	}
	return orNone(out)
}

func gatewayNames(ix *index.Index) []string {
	var out []string
	for _, g := range ix.KubeGateways() {
		out = append(out, g.Object.Namespace+"/"+g.Object.Name)
	}
	return out
}

func serviceNames(ix *index.Index) []string {
	var out []string
	for _, s := range ix.Kind("Service") {
		out = append(out, s.Namespace+"/"+s.Name)
	}
	return out
}

// dedupeFindings drops repeats (a route with two parents that report the
// same backend error).
func dedupeFindings(in []Finding) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, f := range in {
		k := fmt.Sprintf("%s|%s|%d|%s", f.Code, f.File, f.Line, f.Message)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
