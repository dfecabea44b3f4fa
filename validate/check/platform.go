package check

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// GatewayReleaseUnselected catches an ingress gateway release whose pods no
// Gateway selects while a Gateway selects no gateway at all.
var GatewayReleaseUnselected = catalogued("PLT001")

// GatewayPortNotOnService catches a Gateway server port that the selected
// gateway's Service does not expose (Istio's IST0162).
var GatewayPortNotOnService = catalogued("PLT002")

// GatewayReleaseNotInjected catches an ingress gateway release, selected by
// a Gateway, that no injection webhook of the repository's istiod injects.
var GatewayReleaseNotInjected = catalogued("PLT004")

// PlatformDisagreement reports a platform.yaml setting that the repository's
// Istio releases install differently.
var PlatformDisagreement = catalogued("PLT003")

func init() {
	GatewayReleaseUnselected.Target = gatewayReleaseUnselected
	GatewayPortNotOnService.Target = gatewayPortNotOnService
	PlatformDisagreement.Target = platformDisagreement
	GatewayReleaseNotInjected.Target = gatewayReleaseNotInjected
}

// DerivedPlatform is the platform the repository installs for one target's
// cluster (mesh.DerivePlatform over the cluster's Istio releases), with
// where platform.yaml disagrees with it.
type DerivedPlatform struct {
	Platform      *mesh.Platform
	Disagreements []mesh.Disagreement
	// Namespaces are the labels of each namespace the cluster's entry points
	// create: a Namespace object one of them renders, or a namespace Argo
	// CD creates for an Application (syncOptions CreateNamespace=true, with
	// managedNamespaceMetadata's labels). A namespace not here comes from
	// outside the repository: its labels are unknown.
	Namespaces map[string]map[string]string
}

// platformOf is the platform a target lands on: the one derived from the
// repository's releases when Env carries one for it, else the session's
// (platform.yaml, or Istio's default profile).
func platformOf(ix *index.Index, env *Env) (*mesh.Platform, *DerivedPlatform) {
	if d := env.Platforms[ix.Target.ID()]; d != nil && d.Platform != nil {
		return d.Platform, d
	}
	return env.Mesh.PlatformFor(ix), nil
}

func gatewayReleaseUnselected(ix *index.Index, env *Env) []Finding {
	c := GatewayReleaseUnselected
	p, derived := platformOf(ix, env)
	if derived == nil {
		return nil // only what a release installs has a release line to name
	}
	// The Gateways whose selector matches no gateway pod: none the platform
	// runs, none the target deploys.
	var orphans []string
	for _, gw := range ix.Gateways() {
		sel := gw.Spec.GetSelector()
		if len(p.GatewaysSelected(sel)) > 0 || deploysPods(ix, sel) {
			continue
		}
		orphans = append(orphans, fmt.Sprintf("%s selects {%s}", gw.Object, formatLabels(sel)))
	}
	if len(orphans) == 0 {
		return nil
	}
	var out []Finding
	for _, g := range p.IngressGateways {
		if g.File == "" || g.File == p.File {
			continue // not installed by a release of the repository
		}
		selected := false
		for _, gw := range ix.Gateways() {
			if subset(gw.Spec.GetSelector(), g.Labels) {
				selected = true
			}
		}
		if selected {
			continue
		}
		out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: ix.Target.ID(), File: g.File, Line: g.Line,
			Resource: "ingress gateway " + g.String(),
			Message: oneLine(fmt.Sprintf("this release installs the ingress gateway %s with pod labels {%s}, which no Gateway selects, while %s, which matches no gateway pod: "+
				"no Envoy serves those hosts. Make the release label its pods as the Gateway selects them (Istio's gateway chart: the release name gives istio: <name without istio->; set releaseName, or the chart's labels value), or fix the Gateway's selector",
				g, formatLabels(gatewayKeys(g.Labels)), strings.Join(orphans, "; ")))})
	}
	return out
}

// gatewayReleaseNotInjected reports each ingress gateway a release of the
// target's cluster installs, that a Gateway of the target selects, and that
// none of the injection webhooks the cluster's istiod releases install
// selects (Platform.Inject, with the namespace's labels as the cluster's
// entry points create it). A gateway in a namespace the repository does not
// create is left alone: its labels are unknown.
func gatewayReleaseNotInjected(ix *index.Index, env *Env) []Finding {
	c := GatewayReleaseNotInjected
	p, derived := platformOf(ix, env)
	if derived == nil || len(p.Webhooks) == 0 {
		return nil // no istiod release: the injector comes from outside
	}
	var out []Finding
	for _, g := range p.IngressGateways {
		if g.File == "" || g.File == p.File {
			continue // not installed by a release of the repository
		}
		nsLabels, known := derived.Namespaces[g.Namespace]
		if !known {
			continue
		}
		var selecting []string
		for _, gw := range ix.Gateways() {
			if sel := gw.Spec.GetSelector(); len(sel) > 0 && subset(sel, g.Labels) {
				selecting = append(selecting, gw.Object.String())
			}
		}
		if len(selecting) == 0 {
			continue
		}
		if nsLabels == nil {
			nsLabels = map[string]string{}
		}
		inj := p.Inject(g.Namespace, nsLabels, g.Labels, g.Annotations, g.HostNetwork)
		if inj.Sidecar {
			continue
		}
		out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: ix.Target.ID(), File: g.File, Line: g.Line,
			Resource: "ingress gateway " + g.String(),
			Message: oneLine(fmt.Sprintf("this release installs the ingress gateway %s, selected by %s, but its pods are never injected: %s. "+
				"Istio's gateway chart leaves the proxy to the injector (container istio-proxy, image auto), so the pods never start and no Envoy serves those hosts. "+
				"Fix: %s (the gateway chart's revision value labels its pods istio.io/rev)", g, strings.Join(selecting, ", "), inj.Why, inj.Fix))})
	}
	return out
}

// gatewayKeys are the labels a Gateway selector names in practice (the
// gateway chart's selector labels), or every label when neither is set.
func gatewayKeys(l map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"istio", "app"} {
		if v, ok := l[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return l
	}
	return out
}

func deploysPods(ix *index.Index, sel map[string]string) bool {
	for _, w := range ix.Workloads("") {
		if subset(sel, w.Template.Labels) {
			return true
		}
	}
	return false
}

// gatewayPortNotOnService reports each Gateway server whose port the
// Services of the gateway pods it selects do not expose, deciding exactly as
// Istio's IngressGatewayPortAnalyzer (pkg/config/analysis/analyzers/gateway/gateway.go,
// IST0162 GatewayPortNotDefinedOnService): over every TCP port of every
// Service (in the pod's namespace) that selects a pod the Gateway selects, a
// server port is exposed when it equals a port's targetPort (a numeric one),
// or a port whose targetPort is unset, or a Service port; a Gateway that
// selects no pod is left to RT010. The pods are the platform's ingress
// gateways (with their Services) and the target's own workloads (with the
// target's Services). A port without a protocol counts as TCP, as the API
// server defaults it in the cluster the analyzer reads.
func gatewayPortNotOnService(ix *index.Index, env *Env) []Finding {
	c := GatewayPortNotOnService
	p, _ := platformOf(ix, env)
	services := targetServices(ix)
	var out []Finding
	for _, gw := range ix.Gateways() {
		sel := gw.Spec.GetSelector()
		exposed := map[uint32]bool{}
		var offered []string
		matched := 0
		add := func(port, target int32, protocol string) {
			if protocol != "" && protocol != "TCP" {
				return
			}
			if target != 0 {
				exposed[uint32(target)] = true
			}
			exposed[uint32(port)] = true
			offered = append(offered, fmt.Sprintf("%d->%d", port, target))
		}
		var releases []string
		for _, g := range p.GatewaysSelected(sel) {
			matched++
			if g.File != "" && g.File != p.File {
				releases = append(releases, fmt.Sprintf("%s:%d", g.File, g.Line))
			}
			for _, pt := range g.Ports {
				add(pt.Port, pt.TargetPort, pt.Protocol)
			}
		}
		for _, w := range ix.Workloads("") {
			if !subset(sel, w.Template.Labels) {
				continue
			}
			matched++
			for _, s := range services {
				if namespaceOr(s.Namespace) != namespaceOr(w.Namespace) || len(s.Spec.Selector) == 0 || !subset(s.Spec.Selector, w.Template.Labels) {
					continue
				}
				for _, pt := range s.Spec.Ports {
					add(pt.Port, pt.TargetPort.IntVal, string(pt.Protocol))
				}
			}
		}
		if matched == 0 {
			continue
		}
		sort.Strings(offered)
		where := "the gateway chart's service.ports value"
		if len(releases) > 0 {
			sort.Strings(releases)
			where += " of the release at " + strings.Join(dedupe(releases), ", ")
		}
		for i, s := range gw.Spec.GetServers() {
			n := s.GetPort().GetNumber()
			if s.GetPort() == nil || n < 1 || n > 65535 || exposed[n] {
				continue // a port that is no port number is istiod's webhook's (IS002)
			}
			out = append(out, c.findingAt(ix, gw.Object, []string{"spec", "servers", fmt.Sprint(i), "port", "number"},
				"server port %d is not a port of the Service of the gateway pods selector {%s} selects (it exposes %s, as port->targetPort): "+
					"the gateway listens on %d, but no traffic reaches it through its Service (Istio's analyzer reports it as IST0162). "+
					"Use one of the Service's ports, or add %d to the gateway's Service (%s)",
				n, formatLabels(sel), orNone(dedupe(offered)), n, n, where))
		}
	}
	return out
}

func targetServices(ix *index.Index) []corev1.Service {
	var out []corev1.Service
	for _, o := range ix.Kind("Service") {
		var s corev1.Service
		if o.Content == nil || kruntime.DefaultUnstructuredConverter.FromUnstructured(o.Content, &s) != nil {
			continue
		}
		out = append(out, s)
	}
	return out
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func platformDisagreement(ix *index.Index, env *Env) []Finding {
	c := PlatformDisagreement
	_, derived := platformOf(ix, env)
	if derived == nil {
		return nil
	}
	var out []Finding
	for _, d := range derived.Disagreements {
		out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: ix.Target.ID(), File: d.File, Line: d.Line,
			Message: oneLine(fmt.Sprintf("%s: %s declares %s, but %s installs %s; the validator uses what the repository installs. "+
				"Remove the setting from %s (it is only for what clusters get from outside the repository) or make it agree",
				d.What, d.File, d.Declared, d.Release, d.Rendered, d.File))})
	}
	return out
}
