package check

import (
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/istiocharts"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// gatewayPlatform derives the platform from a real render of Istio's
// gateway chart released as name in namespace istio-ingress.
func gatewayPlatform(t *testing.T, name string, values map[string]any) *mesh.Platform {
	t.Helper()
	objs := istiocharts.Render(t, filepath.Join(istiocharts.Dir(t), "gateway"), name, "istio-ingress", values)
	p, dis := mesh.DerivePlatform([]mesh.Release{{Name: "Application argocd/" + name, File: "clusters/dev/argocd/istio.yaml", Line: 51, Objects: objs}}, nil)
	if len(dis) != 0 {
		t.Fatalf("disagreements: %v", dis)
	}
	return p
}

func runPlatform(t *testing.T, ix *index.Index, p *mesh.Platform, dis []mesh.Disagreement, c *Check) []Finding {
	t.Helper()
	env := &Env{RootNamespace: "istio-system"}
	if p != nil {
		env.Platforms = map[string]*DerivedPlatform{ix.Target.ID(): {Platform: p, Disagreements: dis}}
	}
	out := c.Run(ix, env)
	for _, f := range out {
		if f.Code == InternalError.Code {
			t.Fatalf("%s crashed: %s", c.Code, f.Message)
		}
	}
	return out
}

// TestGatewayReleaseUnselected: the shipped Argo CD bug. The gateway chart
// released under the Application's name labels its pods istio:
// ingressgateway-dev, and the Gateway selects istio: ingressgateway.
func TestGatewayReleaseUnselected(t *testing.T) {
	ix := renderFixture(t, filepath.Join("testdata", "platform", "gateway.yaml"))
	got := runPlatform(t, ix, gatewayPlatform(t, "istio-ingressgateway-dev", nil), nil, GatewayReleaseUnselected)
	want := Finding{Code: "PLT001", Resource: "ingress gateway istio-ingress/istio-ingressgateway-dev", Line: 51,
		Message: "this release installs the ingress gateway istio-ingress/istio-ingressgateway-dev with pod labels {app: istio-ingressgateway-dev, istio: ingressgateway-dev}, which no Gateway selects, while Gateway blog/blog selects {istio: ingressgateway}, which matches no gateway pod: no Envoy serves those hosts. Make the release label its pods as the Gateway selects them (Istio's gateway chart: the release name gives istio: <name without istio->; set releaseName, or the chart's labels value), or fix the Gateway's selector"}
	expectFindings(t, got, want)
	if len(got) == 1 && got[0].File != "clusters/dev/argocd/istio.yaml" {
		t.Errorf("finding in %s, want the Application's file", got[0].File)
	}

	// Near misses: the release named as the Gateway expects, or the
	// chart's labels value setting istio: ingressgateway.
	expectFindings(t, runPlatform(t, ix, gatewayPlatform(t, "istio-ingressgateway", nil), nil, GatewayReleaseUnselected))
	expectFindings(t, runPlatform(t, ix, gatewayPlatform(t, "istio-ingressgateway-dev",
		map[string]any{"labels": map[string]any{"istio": "ingressgateway"}}), nil, GatewayReleaseUnselected))
	// Without a derived platform (no release), RT010 speaks, not PLT001.
	expectFindings(t, runPlatform(t, ix, nil, nil, GatewayReleaseUnselected))
}

// TestGatewayPortNotOnService decides as Istio's IST0162: a server port is
// exposed when it is a Service port or a numeric targetPort.
func TestGatewayPortNotOnService(t *testing.T) {
	ix := renderFixture(t, filepath.Join("testdata", "platform", "gateway-ports.yaml"))
	msg := func(port, exposes string) string {
		return "server port " + port + " is not a port of the Service of the gateway pods selector {istio: ingressgateway} selects (it exposes " + exposes +
			", as port->targetPort): the gateway listens on " + port + ", but no traffic reaches it through its Service (Istio's analyzer reports it as IST0162). " +
			"Use one of the Service's ports, or add " + port + " to the gateway's Service (the gateway chart's service.ports value of the release at clusters/dev/argocd/istio.yaml:51)"
	}
	// The gateway chart of the pinned release: 80->80, 443->443, 15021.
	chartExposes := "15021->15021, 443->443, 80->80"
	expectFindings(t, runPlatform(t, ix, gatewayPlatform(t, "istio-ingressgateway", nil), nil, GatewayPortNotOnService),
		Finding{Code: "PLT002", Resource: "Gateway blog/blog", Line: 17, Message: msg("8080", chartExposes)},
		Finding{Code: "PLT002", Resource: "Gateway blog/blog", Line: 23, Message: msg("8443", chartExposes)})
	// Istio's default profile (no platform.yaml): 80->8080 and 443->8443,
	// so 8080 and 8443 are targetPorts: exposed.
	expectFindings(t, runPlatform(t, ix, nil, nil, GatewayPortNotOnService))
	// A Gateway that selects no gateway pod is RT010's.
	expectFindings(t, runPlatform(t, ix, gatewayPlatform(t, "istio-ingressgateway-dev", nil), nil, GatewayPortNotOnService))
}

func TestPlatformDisagreement(t *testing.T) {
	ix := renderFixture(t, filepath.Join("testdata", "platform", "gateway.yaml"))
	p := gatewayPlatform(t, "istio-ingressgateway", nil)
	dis := []mesh.Disagreement{{What: "istio.revisions", File: "platform.yaml", Line: 3, Declared: "[default]", Rendered: "[canary]",
		Release: "HelmRelease istio-system/istiod (infrastructure/istio/releases.yaml:20)"}}
	got := runPlatform(t, ix, p, dis, PlatformDisagreement)
	expectFindings(t, got, Finding{Code: "PLT003", Line: 3,
		Message: "istio.revisions: platform.yaml declares [default], but HelmRelease istio-system/istiod (infrastructure/istio/releases.yaml:20) installs [canary]; the validator uses what the repository installs. Remove the setting from platform.yaml (it is only for what clusters get from outside the repository) or make it agree"})
	if len(got) == 1 && (got[0].File != "platform.yaml" || got[0].Severity != Warning) {
		t.Errorf("finding %s", got[0])
	}
	expectFindings(t, runPlatform(t, ix, p, nil, PlatformDisagreement))
}

// injectedPlatform derives the platform of an istiod release (Istio's
// istiod chart with istiodValues) and the gateway chart released as
// istio-ingressgateway in istio-ingress (with gatewayValues), both real
// renders of the pinned module's charts.
func injectedPlatform(t *testing.T, istiodValues, gatewayValues map[string]any) *mesh.Platform {
	t.Helper()
	dir := istiocharts.Dir(t)
	istiod := istiocharts.Render(t, filepath.Join(dir, "istio-control", "istio-discovery"), "istiod", "istio-system", istiodValues)
	gateway := istiocharts.Render(t, filepath.Join(dir, "gateway"), "istio-ingressgateway", "istio-ingress", gatewayValues)
	p, dis := mesh.DerivePlatform([]mesh.Release{
		{Name: "HelmRelease istio-system/istiod", File: "infrastructure/istio/releases.yaml", Line: 20, Namespace: "istio-system", Objects: istiod},
		{Name: "HelmRelease istio-ingress/istio-ingressgateway", File: "infrastructure/istio/releases.yaml", Line: 39, Namespace: "istio-ingress", Objects: gateway},
	}, nil)
	if len(dis) != 0 {
		t.Fatalf("disagreements: %v", dis)
	}
	return p
}

// TestGatewayReleaseNotInjected: istiod released as revision canary injects
// only what asks for canary; the gateway chart's pods in a namespace
// labelled istio-injection: enabled keep the image auto.
func TestGatewayReleaseNotInjected(t *testing.T) {
	ix := renderFixture(t, filepath.Join("testdata", "platform", "gateway.yaml"))
	run := func(p *mesh.Platform, namespaces map[string]map[string]string) []Finding {
		t.Helper()
		env := &Env{RootNamespace: "istio-system", Platforms: map[string]*DerivedPlatform{ix.Target.ID(): {Platform: p, Namespaces: namespaces}}}
		out := GatewayReleaseNotInjected.Run(ix, env)
		for _, f := range out {
			if f.Code == InternalError.Code {
				t.Fatalf("crashed: %s", f.Message)
			}
		}
		return out
	}
	canary := map[string]any{"revision": "canary"}
	legacy := map[string]map[string]string{"istio-ingress": {"istio-injection": "enabled"}}
	got := run(injectedPlatform(t, canary, nil), legacy)
	if len(got) != 1 {
		t.Fatalf("got %d findings, want one PLT004: %v", len(got), got)
	}
	f := got[0]
	if f.Code != "PLT004" || f.File != "infrastructure/istio/releases.yaml" || f.Line != 39 || f.Resource != "ingress gateway istio-ingress/istio-ingressgateway" || f.Severity != Error {
		t.Errorf("finding %s at %s:%d (%s), want PLT004 at the gateway release's line", f.Code, f.File, f.Line, f.Resource)
	}
	for _, want := range []string{"selected by Gateway blog/blog", "namespace istio-ingress {istio-injection: enabled}", "revision canary", "label the namespace istio.io/rev=canary"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message does not say %q: %s", want, f.Message)
		}
	}
	// Near misses: the namespace labelled for the canary revision; the
	// default revision, whose object webhook takes the gateway chart's
	// sidecar.istio.io/inject: "true" in a namespace without labels (as
	// Argo CD's CreateNamespace=true makes it); the gateway chart asking
	// for canary in a namespace without labels; a namespace the repository
	// does not create (its labels are unknown).
	expectFindings(t, run(injectedPlatform(t, canary, nil), map[string]map[string]string{"istio-ingress": {"istio.io/rev": "canary"}}))
	expectFindings(t, run(injectedPlatform(t, nil, nil), map[string]map[string]string{"istio-ingress": {}}))
	expectFindings(t, run(injectedPlatform(t, nil, nil), legacy))
	expectFindings(t, run(injectedPlatform(t, canary, canary), map[string]map[string]string{"istio-ingress": {}}))
	expectFindings(t, run(injectedPlatform(t, canary, nil), nil))
}
