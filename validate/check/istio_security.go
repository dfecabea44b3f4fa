package check

import (
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"meshops.dev/meshops/validate/index"
)

// MTLSPlaintextToStrict catches a DestinationRule that sends plaintext to
// workloads that accept only mutual TLS.
//
// With tls.mode DISABLE the client's cluster has no TLS transport socket
// (pilot/pkg/networking/core/cluster_tls.go, buildUpstreamClusterTLSContext:
// auto mTLS applies only when the DestinationRule sets no tls), while
// PeerAuthentication STRICT leaves the server's inbound listener with only
// the mTLS filter chain (pilot/pkg/security/authn/policy_applier.go,
// InboundMTLSSettings; the effective mode is the workload's policy, else its
// namespace's, else the root namespace's: pilot/pkg/model/authentication.go,
// composePeerAuthentication). The server resets each plaintext connection:
// every request answers 503 (upstream connect error). Istio's analyzers no
// longer report this (IST0113 was removed with the alpha policy API).
var MTLSPlaintextToStrict = catalogued("MTLS001")

// AuthzPrincipalsWithoutJWT catches an ALLOW policy that matches request
// principals no RequestAuthentication produces.
//
// requestPrincipals (and request.auth.* conditions) match the principal the
// JWT filter writes to the istio_authn metadata
// (pilot/pkg/security/authz/model/generator.go, requestPrincipalGenerator);
// istiod installs that filter only on workloads a RequestAuthentication
// selects (pilot/pkg/security/authn/policy_applier.go, JwtFilter returns nil
// without JWT rules). Without one no request ever carries a principal, the
// rule never matches, and once an ALLOW policy applies to a workload,
// Envoy's RBAC filter denies every request it does not match: 403
// "RBAC: access denied".
var AuthzPrincipalsWithoutJWT = catalogued("AUTHZ001")

func init() {
	MTLSPlaintextToStrict.Target = mtlsPlaintextToStrict
	AuthzPrincipalsWithoutJWT.Target = authzPrincipalsWithoutJWT
}

// meshWorkload is a set of pods Istio policies select: a rendered workload
// or a declared ingress gateway.
type policyWorkload struct {
	namespace, name string
	labels          map[string]string
}

func policyWorkloads(ix *index.Index, env *Env) []policyWorkload {
	var out []policyWorkload
	for _, w := range ix.Workloads("") {
		out = append(out, policyWorkload{w.Namespace, w.String(), w.Template.Labels})
	}
	if env.Mesh != nil {
		for _, g := range env.Mesh.PlatformFor(ix).IngressGateways {
			out = append(out, policyWorkload{g.Namespace, "ingress gateway " + g.String(), g.Labels})
		}
	}
	return out
}

// appliesTo reports whether an Istio policy in namespace ns with selector
// sel applies to w: policies in the root namespace apply everywhere.
func appliesTo(env *Env, ns string, sel map[string]string, w policyWorkload) bool {
	if ns != w.namespace && ns != policyRoot(env) {
		return false
	}
	return subset(sel, w.labels)
}

// peerMode returns the mTLS mode PeerAuthentications give w, resolving
// UNSET to the parent level as istiod does (workload, namespace, root).
func peerMode(ix *index.Index, env *Env, w policyWorkload) security.PeerAuthentication_MutualTLS_Mode {
	var workload, namespace, root *security.PeerAuthentication
	for _, o := range ix.Kind("PeerAuthentication") {
		pa, ok := index.IstioSpec[*security.PeerAuthentication](o)
		if !ok {
			continue
		}
		sel := pa.GetSelector().GetMatchLabels()
		switch {
		case o.Namespace == w.namespace && len(sel) > 0 && subset(sel, w.labels):
			if workload == nil {
				workload = pa
			}
		case o.Namespace == w.namespace && len(sel) == 0:
			if namespace == nil {
				namespace = pa
			}
		case o.Namespace == policyRoot(env) && len(sel) == 0:
			if root == nil {
				root = pa
			}
		}
	}
	for _, pa := range []*security.PeerAuthentication{workload, namespace, root} {
		if m := pa.GetMtls().GetMode(); pa != nil && m != security.PeerAuthentication_MutualTLS_UNSET {
			return m
		}
	}
	return security.PeerAuthentication_MutualTLS_PERMISSIVE
}

// serviceOfHost returns the Service a DestinationRule host (short name,
// name.namespace or FQDN, relative to the rule's namespace) names, or nil.
func serviceOfHost(ix *index.Index, host, ns string) *index.Object {
	name, rest, _ := strings.Cut(host, ".")
	if rest != "" {
		ns, _, _ = strings.Cut(rest, ".")
		if !strings.HasSuffix(host, ".svc.cluster.local") && strings.Count(host, ".") > 1 {
			return nil
		}
	}
	return ix.Get("Service", ns, name)
}

func mtlsPlaintextToStrict(ix *index.Index, env *Env) []Finding {
	c := MTLSPlaintextToStrict
	var out []Finding
	for _, dr := range ix.DestinationRules() {
		tls := dr.Spec.GetTrafficPolicy().GetTls()
		if tls == nil || tls.GetMode() != networking.ClientTLSSettings_DISABLE {
			continue
		}
		svcObj := serviceOfHost(ix, dr.Spec.GetHost(), dr.Namespace)
		if svcObj == nil {
			continue
		}
		svc, ok := decodeService(svcObj)
		if !ok {
			continue
		}
		matched, _ := selected(ix, svc, svcObj.Namespace)
		for _, w := range matched {
			pw := policyWorkload{w.Namespace, w.String(), w.Template.Labels}
			if peerMode(ix, env, pw) == security.PeerAuthentication_MutualTLS_STRICT {
				out = append(out, c.findingAt(ix, dr.Object, []string{"spec", "trafficPolicy", "tls", "mode"}, "tls.mode DISABLE sends plaintext to %s, whose pods (%s) a PeerAuthentication makes STRICT: they refuse every plaintext connection and each request answers 503; drop tls (Istio then uses mutual TLS) or set mode ISTIO_MUTUAL", dr.Spec.GetHost(), w))
				break
			}
		}
	}
	return out
}

func authzPrincipalsWithoutJWT(ix *index.Index, env *Env) []Finding {
	c := AuthzPrincipalsWithoutJWT
	var ras []index.Typed[*security.RequestAuthentication]
	for _, o := range ix.Kind("RequestAuthentication") {
		if ra, ok := index.IstioSpec[*security.RequestAuthentication](o); ok {
			ras = append(ras, index.Typed[*security.RequestAuthentication]{Object: o, Spec: ra})
		}
	}
	workloads := policyWorkloads(ix, env)
	var out []Finding
	for _, o := range ix.Kind("AuthorizationPolicy") {
		ap, ok := index.IstioSpec[*security.AuthorizationPolicy](o)
		if !ok || ap.GetAction() != security.AuthorizationPolicy_ALLOW || len(ap.GetTargetRefs()) > 0 || ap.GetTargetRef() != nil {
			continue
		}
		// The first field that needs a JWT principal.
		var at []string
		for i, r := range ap.GetRules() {
			for j, f := range r.GetFrom() {
				if at == nil && len(f.GetSource().GetRequestPrincipals()) > 0 {
					at = []string{"spec", "rules", strconv.Itoa(i), "from", strconv.Itoa(j), "source", "requestPrincipals"}
				}
			}
			for k, cond := range r.GetWhen() {
				if at == nil && strings.HasPrefix(cond.GetKey(), "request.auth.") && len(cond.GetValues()) > 0 {
					at = []string{"spec", "rules", strconv.Itoa(i), "when", strconv.Itoa(k), "key"}
				}
			}
		}
		if at == nil {
			continue
		}
		for _, w := range workloads {
			if !appliesTo(env, o.Namespace, ap.GetSelector().GetMatchLabels(), w) {
				continue
			}
			authenticated := false
			for _, ra := range ras {
				if len(ra.Spec.GetTargetRefs()) > 0 || ra.Spec.GetTargetRef() != nil || appliesTo(env, ra.Namespace, ra.Spec.GetSelector().GetMatchLabels(), w) {
					authenticated = true
				}
			}
			if !authenticated {
				out = append(out, c.findingAt(ix, o, at, "this ALLOW rule matches JWT request principals, but no RequestAuthentication selects %s: its requests never carry a principal and every one is denied (403 RBAC: access denied); add a RequestAuthentication with the issuer's jwtRules for the same workloads", w.name))
				break
			}
		}
	}
	return out
}

// policyRoot is Istio's root namespace for policies: rootNamespace, or
// Istio's default when no platform is known.
func policyRoot(env *Env) string {
	if env.RootNamespace == "" && env.Mesh == nil {
		return "istio-system"
	}
	return rootNamespace(env)
}
