package check

import (
	"path/filepath"
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
			"Use one of the Service's ports, or add " + port + " to the gateway's Service (the gateway chart's service.ports value)"
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
