package mesh

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/istiocharts"
)

// gatewayLabels are the pod labels Istio's gateway chart renders for a
// release (manifests/charts/gateway/templates/deployment.yaml and _helpers.tpl):
// app and istio from the release name unless the labels value sets them.
func gatewayLabels(release, app, istio string, extra map[string]string) map[string]string {
	l := map[string]string{
		"app": app, "istio": istio,
		"app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/name": release,
		"app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": "1.0.0", "helm.sh/chart": "gateway-1.0.0",
		"istio.io/dataplane-mode": "none", "sidecar.istio.io/inject": "true",
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// chartPorts are the gateway chart's default Service ports (values.yaml service.ports).
var chartPorts = []GatewayPort{
	{Name: "status-port", Port: 15021, TargetPort: 15021, Protocol: "TCP"},
	{Name: "http2", Port: 80, TargetPort: 80, Protocol: "TCP"},
	{Name: "https", Port: 443, TargetPort: 443, Protocol: "TCP"},
}

type derived struct {
	gateways  []IngressGateway
	revisions []string
	webhooks  []string
	root      string
}

func webhookStrings(p *Platform) []string {
	var out []string
	for _, w := range p.Webhooks {
		out = append(out, w.Configuration+" "+w.String())
	}
	return out
}

// defaultWebhooks are the four webhooks istiod's chart renders for the
// default revision (templates/mutatingwebhook.yaml).
var defaultWebhooks = []string{
	"istio-sidecar-injector rev.namespace.sidecar-injector.istio.io (revision default; namespaces !istio-injection,istio.io/rev in (default); pods sidecar.istio.io/inject notin (false))",
	"istio-sidecar-injector rev.object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods istio.io/rev in (default),sidecar.istio.io/inject notin (false))",
	"istio-sidecar-injector namespace.sidecar-injector.istio.io (revision default; namespaces istio-injection in (enabled); pods sidecar.istio.io/inject notin (false))",
	"istio-sidecar-injector object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods !istio.io/rev,sidecar.istio.io/inject in (true))",
}

func TestDerivePlatformFromIstioCharts(t *testing.T) {
	charts := istioCharts(t)
	gateway := filepath.Join(charts, "gateway")
	istiod := filepath.Join(charts, "istio-control", "istio-discovery")
	release := func(name, file string, line int, chart, rel, ns string, values map[string]any) Release {
		return Release{Name: name, File: file, Line: line, Objects: renderRelease(t, chart, rel, ns, values)}
	}
	tests := []struct {
		name     string
		releases []Release
		want     derived
	}{{
		name: "default install",
		releases: []Release{
			release("HelmRelease istio-system/istiod", "infrastructure/istio/releases.yaml", 20, istiod, "istiod", "istio-system", nil),
			release("HelmRelease istio-ingress/istio-ingressgateway", "infrastructure/istio/releases.yaml", 36, gateway, "istio-ingressgateway", "istio-ingress", nil),
		},
		want: derived{
			gateways: []IngressGateway{{Name: "istio-ingressgateway", Namespace: "istio-ingress",
				Labels: gatewayLabels("istio-ingressgateway", "istio-ingressgateway", "ingressgateway", nil), Ports: chartPorts,
				File: "infrastructure/istio/releases.yaml", Line: 36}},
			revisions: []string{"default"}, webhooks: defaultWebhooks, root: "istio-system",
		},
	}, {
		name: "gateway released under the Argo CD Application's name",
		releases: []Release{
			release("Application argocd/istio-ingressgateway-dev", "clusters/dev/argocd/istio.yaml", 51, gateway, "istio-ingressgateway-dev", "istio-ingress", nil),
		},
		want: derived{
			gateways: []IngressGateway{{Name: "istio-ingressgateway-dev", Namespace: "istio-ingress",
				Labels: gatewayLabels("istio-ingressgateway-dev", "istio-ingressgateway-dev", "ingressgateway-dev", nil), Ports: chartPorts,
				File: "clusters/dev/argocd/istio.yaml", Line: 51}},
			// Only a gateway: Istio's default profile for the rest.
			revisions: []string{"default"}, root: "istio-system",
		},
	}, {
		name: "gateway with custom labels in its own namespace",
		releases: []Release{
			release("HelmRelease edge/edge-gateway", "infrastructure/edge/release.yaml", 1, gateway, "edge-gateway", "edge",
				map[string]any{"labels": map[string]any{"istio": "edge", "app": "edge", "team": "web"}}),
		},
		want: derived{
			gateways: []IngressGateway{{Name: "edge-gateway", Namespace: "edge",
				Labels: gatewayLabels("edge-gateway", "edge", "edge", map[string]string{"team": "web"}), Ports: chartPorts,
				File: "infrastructure/edge/release.yaml", Line: 1}},
			revisions: []string{"default"}, root: "istio-system",
		},
	}, {
		name: "revisioned istiod",
		releases: []Release{
			release("HelmRelease istio-system/istiod-canary", "infrastructure/istio/releases.yaml", 20, istiod, "istiod-canary", "istio-system", map[string]any{"revision": "canary"}),
		},
		// istiod and no gateway: the ingress comes from outside the
		// repository, the default profile's gateway stays.
		want: derived{
			gateways:  DefaultPlatform().IngressGateways,
			revisions: []string{"canary"},
			webhooks: []string{
				"istio-sidecar-injector-canary rev.namespace.sidecar-injector.istio.io (revision canary; namespaces !istio-injection,istio.io/rev in (canary); pods sidecar.istio.io/inject notin (false))",
				"istio-sidecar-injector-canary rev.object.sidecar-injector.istio.io (revision canary; namespaces !istio-injection,!istio.io/rev; pods istio.io/rev in (canary),sidecar.istio.io/inject notin (false))",
			},
			root: "istio-system",
		},
	}, {
		name: "meshConfig values",
		releases: []Release{
			release("HelmRelease mesh/istiod", "infrastructure/istio/releases.yaml", 20, istiod, "istiod", "mesh",
				map[string]any{"meshConfig": map[string]any{"rootNamespace": "mesh-root"}, "global": map[string]any{"istioNamespace": "mesh"}}),
		},
		want: derived{gateways: DefaultPlatform().IngressGateways, revisions: []string{"default"}, root: "mesh-root", webhooks: []string{
			"istio-sidecar-injector-mesh rev.namespace.sidecar-injector.istio.io (revision default; namespaces !istio-injection,istio.io/rev in (default); pods sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh rev.object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods istio.io/rev in (default),sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh namespace.sidecar-injector.istio.io (revision default; namespaces istio-injection in (enabled); pods sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods !istio.io/rev,sidecar.istio.io/inject in (true))",
		}},
	}, {
		name: "istiod in a namespace of its own, root namespace from global.istioNamespace",
		releases: []Release{
			release("HelmRelease mesh/istiod", "infrastructure/istio/releases.yaml", 20, istiod, "istiod", "mesh",
				map[string]any{"global": map[string]any{"istioNamespace": "mesh"}}),
		},
		want: derived{gateways: DefaultPlatform().IngressGateways, revisions: []string{"default"}, root: "mesh", webhooks: []string{
			"istio-sidecar-injector-mesh rev.namespace.sidecar-injector.istio.io (revision default; namespaces !istio-injection,istio.io/rev in (default); pods sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh rev.object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods istio.io/rev in (default),sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh namespace.sidecar-injector.istio.io (revision default; namespaces istio-injection in (enabled); pods sidecar.istio.io/inject notin (false))",
			"istio-sidecar-injector-mesh object.sidecar-injector.istio.io (revision default; namespaces !istio-injection,!istio.io/rev; pods !istio.io/rev,sidecar.istio.io/inject in (true))",
		}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, dis := DerivePlatform(tc.releases, nil)
			if len(dis) != 0 {
				t.Errorf("disagreements without platform.yaml: %v", dis)
			}
			// A gateway a release installs carries its pod template's
			// annotations, which Platform.Inject reads (PLT004): the gateway
			// chart asks for the gateway injection template.
			gateways := slices.Clone(p.IngressGateways)
			for i, g := range gateways {
				if g.File != "" && g.Annotations["inject.istio.io/templates"] != "gateway" {
					t.Errorf("gateway %s: pod annotations %v, want the chart's inject.istio.io/templates: gateway", g, g.Annotations)
				}
				gateways[i].Annotations = nil
			}
			got := derived{gateways: gateways, revisions: p.Revisions, webhooks: webhookStrings(p), root: p.RootNamespace()}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("derived platform:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDerivePlatformDisagreesWithPlatformFile(t *testing.T) {
	charts := istioCharts(t)
	declared, err := ParsePlatform("platform.yaml", []byte(`istio:
  revisions: [default]
ingressGateways:
  - name: istio-ingressgateway
    namespace: istio-ingress
    labels: {istio: ingressgateway}
    ports:
      - {name: http2, port: 80, targetPort: 8080}
  - name: external
    namespace: edge
    labels: {istio: external}
    ports:
      - {name: http2, port: 80, targetPort: 8080}
meshConfig:
  rootNamespace: istio-config
  accessLogFile: /dev/stdout
`))
	if err != nil {
		t.Fatal(err)
	}
	releases := []Release{
		{Name: "HelmRelease istio-system/istiod", File: "infrastructure/istio/releases.yaml", Line: 20,
			Objects: renderRelease(t, filepath.Join(charts, "istio-control", "istio-discovery"), "istiod", "istio-system",
				map[string]any{"revision": "canary", "meshConfig": map[string]any{"accessLogFile": "/dev/stdout"}})},
		{Name: "HelmRelease istio-ingress/istio-ingressgateway", File: "infrastructure/istio/releases.yaml", Line: 36,
			Objects: renderRelease(t, filepath.Join(charts, "gateway"), "istio-ingressgateway", "istio-ingress", nil)},
	}
	p, dis := DerivePlatform(releases, declared)
	var got []string
	for _, d := range dis {
		got = append(got, d.String())
	}
	want := []string{
		`platform.yaml:4: ingressGateways[0] (istio-ingress/istio-ingressgateway) labels: platform.yaml declares {istio: ingressgateway}, but HelmRelease istio-ingress/istio-ingressgateway (infrastructure/istio/releases.yaml:36) installs {app: istio-ingressgateway, app.kubernetes.io/instance: istio-ingressgateway, app.kubernetes.io/managed-by: Helm, app.kubernetes.io/name: istio-ingressgateway, app.kubernetes.io/part-of: istio, app.kubernetes.io/version: 1.0.0, helm.sh/chart: gateway-1.0.0, istio: ingressgateway, istio.io/dataplane-mode: none, sidecar.istio.io/inject: true}`,
		`platform.yaml:4: ingressGateways[0] (istio-ingress/istio-ingressgateway) ports: platform.yaml declares [http2 80->8080], but HelmRelease istio-ingress/istio-ingressgateway (infrastructure/istio/releases.yaml:36) installs [status-port 15021->15021, http2 80->80, https 443->443]`,
		`platform.yaml:2: istio.revisions: platform.yaml declares [default], but HelmRelease istio-system/istiod (infrastructure/istio/releases.yaml:20) installs [canary]`,
		`platform.yaml:15: meshConfig.rootNamespace: platform.yaml declares "istio-config", but HelmRelease istio-system/istiod (infrastructure/istio/releases.yaml:20) installs "istio-system"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The repository wins; the gateway it does not install stays.
	var gws []string
	for _, g := range p.IngressGateways {
		gws = append(gws, g.String())
	}
	if strings.Join(gws, " ") != "istio-ingress/istio-ingressgateway edge/external" || p.RootNamespace() != "istio-system" ||
		!reflect.DeepEqual(p.Revisions, []string{"canary"}) || p.Mesh.GetAccessLogFile() != "/dev/stdout" {
		t.Errorf("derived platform: gateways %v, root %s, revisions %v, accessLogFile %q", gws, p.RootNamespace(), p.Revisions, p.Mesh.GetAccessLogFile())
	}
}

func TestInjectionFollowsDerivedWebhooks(t *testing.T) {
	charts := istioCharts(t)
	istiod := filepath.Join(charts, "istio-control", "istio-discovery")
	canary, _ := DerivePlatform([]Release{{Name: "HelmRelease istio-system/istiod", File: "r.yaml", Line: 1,
		Objects: renderRelease(t, istiod, "istiod", "istio-system", map[string]any{"revision": "canary"})}}, nil)
	def, _ := DerivePlatform([]Release{{Name: "HelmRelease istio-system/istiod", File: "r.yaml", Line: 1,
		Objects: renderRelease(t, istiod, "istiod", "istio-system", nil)}}, nil)
	tests := []struct {
		name      string
		p         *Platform
		ns        map[string]string
		pod       map[string]string
		hostNet   bool
		want      bool
		wantStart string
	}{
		{"canary: namespace on the canary revision", canary, map[string]string{"istio.io/rev": "canary"}, nil, false, true,
			"the injection webhook rev.namespace.sidecar-injector.istio.io of istiod revision canary selects it"},
		{"canary: pod on the canary revision", canary, map[string]string{}, map[string]string{"istio.io/rev": "canary"}, false, true,
			"the injection webhook rev.object.sidecar-injector.istio.io of istiod revision canary selects it"},
		{"canary: istio-injection=enabled selects no webhook", canary, map[string]string{"istio-injection": "enabled"}, nil, false, false,
			"no injection webhook the repository installs selects it (namespace blog {istio-injection: enabled}, pod labels {})"},
		{"canary: pod opts out", canary, map[string]string{"istio.io/rev": "canary"}, map[string]string{"sidecar.istio.io/inject": "false"}, false, false,
			`its pod template has the label sidecar.istio.io/inject: "false"`},
		{"default: istio-injection=enabled", def, map[string]string{"istio-injection": "enabled"}, nil, false, true,
			"the injection webhook namespace.sidecar-injector.istio.io of istiod revision default selects it"},
		{"default: hostNetwork", def, map[string]string{"istio-injection": "enabled"}, nil, true, false,
			"its pods use hostNetwork"},
		{"default: istio.io/rev=canary is no installed revision", def, map[string]string{"istio.io/rev": "canary"}, nil, false, false,
			"no injection webhook the repository installs selects it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Inject("blog", tc.ns, tc.pod, nil, tc.hostNet)
			if got.Sidecar != tc.want || !strings.HasPrefix(got.Why, tc.wantStart) {
				t.Errorf("Inject = %v, %q\nwant %v, starting %q", got.Sidecar, got.Why, tc.want, tc.wantStart)
			}
		})
	}
	// Without istiod in the repository, today's rules for the revisions.
	if got := DefaultPlatform().Inject("blog", map[string]string{"istio-injection": "enabled"}, nil, nil, false); !got.Sidecar ||
		got.Why != "namespace blog has istio-injection=enabled" {
		t.Errorf("default platform: %+v", got)
	}
}

func istioCharts(t *testing.T) string { return istiocharts.Dir(t) }

func renderRelease(t *testing.T, chart, name, namespace string, values map[string]any) []map[string]any {
	return istiocharts.Render(t, chart, name, namespace, values)
}

// BenchmarkDerivePlatform derives the platform from a default install
// (istiod and a gateway, rendered once with Helm's SDK).
func BenchmarkDerivePlatform(b *testing.B) {
	charts := istiocharts.Dir(b)
	releases := []Release{
		{Name: "HelmRelease istio-system/istiod", File: "r.yaml", Line: 1,
			Objects: istiocharts.Render(b, filepath.Join(charts, "istio-control", "istio-discovery"), "istiod", "istio-system", nil)},
		{Name: "HelmRelease istio-ingress/istio-ingressgateway", File: "r.yaml", Line: 20,
			Objects: istiocharts.Render(b, filepath.Join(charts, "gateway"), "istio-ingressgateway", "istio-ingress", nil)},
	}
	for b.Loop() {
		DerivePlatform(releases, nil)
	}
}

// BenchmarkRenderIstiod renders istiod's chart of the pinned module with
// Helm's SDK (load, coalesce values, template), as a Helm engine does per
// release.
func BenchmarkRenderIstiod(b *testing.B) {
	chart := filepath.Join(istiocharts.Dir(b), "istio-control", "istio-discovery")
	for b.Loop() {
		istiocharts.Render(b, chart, "istiod", "istio-system", nil)
	}
}

// TestDeriveGatewayWithoutNamespace: a chart that renders its objects
// without a namespace has them installed in the release's namespace.
func TestDeriveGatewayWithoutNamespace(t *testing.T) {
	objs := renderRelease(t, filepath.Join(istioCharts(t), "gateway"), "edge", "edge", nil)
	for _, o := range objs {
		delete(o["metadata"].(map[string]any), "namespace")
	}
	p, _ := DerivePlatform([]Release{{Name: "Application argocd/edge", File: "a.yaml", Line: 1, Namespace: "edge", Objects: objs}}, nil)
	if len(p.IngressGateways) != 1 || p.IngressGateways[0].String() != "edge/edge" || len(p.IngressGateways[0].Ports) != 3 {
		t.Errorf("gateways = %+v", p.IngressGateways)
	}
}
