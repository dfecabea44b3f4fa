package mesh

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

const fixture = "../pipeline/testdata/mesh/repo"

// TestVersionMatchesModule keeps Version equal to the VERSION file of the
// pinned istio.io/istio, and istio.io/api on the same release.
func TestVersionMatchesModule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to locate the istio.io/istio module")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}|{{.Version}}", "istio.io/istio").Output()
	if err != nil {
		t.Fatalf("go list -m istio.io/istio: %v", err)
	}
	dir, _, _ := strings.Cut(strings.TrimSpace(string(out)), "|")
	data, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		t.Fatalf("read istio.io/istio's VERSION: %v", err)
	}
	if got := strings.TrimSpace(string(data)); got != Version {
		t.Errorf("istio.io/istio's VERSION says %s, mesh.Version says %s: update Version, README's \"Which Istio\", and platform defaults", got, Version)
	}
	out, err = exec.Command("go", "list", "-m", "-f", "{{.Version}}", "istio.io/api").Output()
	if err != nil {
		t.Fatalf("go list -m istio.io/api: %v", err)
	}
	if api := strings.TrimSpace(string(out)); minorOf(api) != Version {
		t.Errorf("istio.io/api is %s, not a %s release: keep it on the release of istio.io/istio", api, Version)
	}
}

func renderDev(t testing.TB, root string) *index.Index {
	t.Helper()
	tree, err := render.LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
	if err != nil {
		t.Fatal(err)
	}
	return index.New(res)
}

// TestKnownAnswer pins what istiod of the pinned release pushes for the
// fixture's dev overlay. It fails loudly when a bump of istio.io/istio
// changes the internal pilot APIs or their answer.
func TestKnownAnswer(t *testing.T) {
	ans, err := (&Analyzer{Platform: DefaultPlatform()}).Analyze(renderDev(t, fixture))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Workloads) != 1 {
		t.Fatalf("%d workloads, want 1", len(ans.Workloads))
	}
	w := ans.Workloads[0]
	if w.Ref != "Deployment shop/web" || !w.Sidecar || w.Why != "namespace shop has istio-injection=enabled" || w.Source != "base/deployment.yaml" {
		t.Errorf("workload = %s sidecar=%v why=%q file=%s", w.Ref, w.Sidecar, w.Why, w.Source)
	}
	if len(w.Chains) == 0 {
		t.Fatal("no inbound HTTP filter chain")
	}
	var names []string
	var wasm *WasmFilter
	for _, f := range w.Chains[0].Filters {
		names = append(names, f.Name)
		if f.Wasm != nil {
			wasm = f.Wasm
		}
	}
	wantNames := []string{
		"istio.metadata_exchange",
		"extensions.istio.io/trafficextension/shop.edge-hdr~istio-translated-wasmplugin",
		"envoy.filters.http.grpc_stats",
		"envoy.filters.http.fault",
		"envoy.filters.http.cors",
		"envoy.filters.http.router",
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("inbound HTTP filters:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(wantNames, "\n"))
	}
	want := &WasmFilter{Plugin: "shop/edge-hdr", Type: "HTTP", Phase: "UNSPECIFIED_PHASE",
		URL: "oci://registry.acme.test:5443/platform/edge-hdr:v1.0.0", FailStrategy: "FAIL_OPEN",
		VMID: "", RootID: "", PluginConfig: `{"responseHeaders":[{"name":"x-shop","value":"acme"},{"name":"x-stage","value":"dev"}]}`}
	if wasm == nil {
		t.Fatal("no Wasm filter")
	}
	wasm.VMID, wasm.RootID = "", ""
	if !reflect.DeepEqual(wasm, want) {
		t.Errorf("wasm filter = %+v\nwant %+v", *wasm, *want)
	}
	if p := ans.Plugins["shop/edge-hdr"]; p == nil || !reflect.DeepEqual(p.Attached, []string{"Deployment shop/web"}) || p.Network {
		t.Errorf("plugin attachment = %+v", p)
	}
	if len(ans.Gateways) != 1 || len(ans.Gateways[0].Routes) != 1 {
		t.Fatalf("gateways = %+v", ans.Gateways)
	}
	r := ans.Gateways[0].Routes[0]
	got := []string{r.Host, r.Path, r.Listener, r.VirtualHost, r.Cluster, r.From, strings.Join(r.Endpoints, ","), r.Error}
	wantRoute := []string{"shop.acme.test", "/", "0.0.0.0_8080", "shop.acme.test:80", "outbound|80||web.shop.svc.cluster.local", "shop/shop", "Deployment shop/web", ""}
	if !reflect.DeepEqual(got, wantRoute) {
		t.Errorf("route = %q\nwant    %q", got, wantRoute)
	}
}

func TestInject(t *testing.T) {
	def := []string{"default"}
	tests := []struct {
		name        string
		revisions   []string
		ns          map[string]string
		labels      map[string]string
		annotations map[string]string
		sidecar     bool
		annotation  bool
	}{
		{"namespace enabled", def, map[string]string{"istio-injection": "enabled"}, nil, nil, true, false},
		{"namespace disabled, pod label", def, map[string]string{"istio-injection": "disabled"}, map[string]string{"sidecar.istio.io/inject": "true"}, nil, false, false},
		{"unlabelled namespace, pod label", def, map[string]string{}, map[string]string{"sidecar.istio.io/inject": "true"}, nil, true, false},
		{"unlabelled namespace, pod annotation", def, map[string]string{}, nil, map[string]string{"sidecar.istio.io/inject": "true"}, false, true},
		{"namespace enabled, annotation opts out", def, map[string]string{"istio-injection": "enabled"}, nil, map[string]string{"sidecar.istio.io/inject": "false"}, false, false},
		{"namespace enabled, label opts out", def, map[string]string{"istio-injection": "enabled"}, map[string]string{"sidecar.istio.io/inject": "false"}, nil, false, false},
		{"label beats annotation", def, map[string]string{"istio-injection": "enabled"}, map[string]string{"sidecar.istio.io/inject": "true"}, map[string]string{"sidecar.istio.io/inject": "false"}, true, false},
		{"installed revision", []string{"canary"}, map[string]string{"istio.io/rev": "canary"}, nil, nil, true, false},
		{"unknown revision", []string{"canary"}, map[string]string{"istio.io/rev": "stable"}, nil, nil, false, false},
		{"default revision label", def, map[string]string{"istio.io/rev": "default"}, nil, nil, true, false},
		{"pod revision label", []string{"canary"}, map[string]string{}, map[string]string{"istio.io/rev": "canary"}, nil, true, false},
		{"legacy label wins over revision", []string{"canary"}, map[string]string{"istio-injection": "enabled", "istio.io/rev": "canary"}, nil, nil, false, false},
		{"ambient namespace", def, map[string]string{"istio.io/dataplane-mode": "ambient"}, nil, nil, false, false},
		{"namespace not rendered", def, nil, nil, nil, false, false},
	}
	for _, tt := range tests {
		got := Inject(tt.revisions, "app", tt.ns, tt.labels, tt.annotations, false)
		if got.Sidecar != tt.sidecar || got.AnnotationOnly != tt.annotation || got.Why == "" || (!got.Sidecar && got.Fix == "") {
			t.Errorf("%s: %+v, want sidecar=%v annotationOnly=%v", tt.name, got, tt.sidecar, tt.annotation)
		}
	}
	if got := Inject(def, "kube-system", map[string]string{"istio-injection": "enabled"}, nil, nil, false); got.Sidecar {
		t.Errorf("kube-system: %+v, want no sidecar", got)
	}
	if got := Inject(def, "app", map[string]string{"istio-injection": "enabled"}, nil, nil, true); got.Sidecar {
		t.Errorf("hostNetwork: %+v, want no sidecar", got)
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := ParsePlatform(PlatformFile, []byte("istio:\n  version: \"1.31\"\n  revisions: [canary]\nmeshConfig:\n  rootNamespace: mesh-root\ningressGateways:\n  - name: edge\n    namespace: edge-system\n    labels: {app: edge}\n    ports: [{name: http, port: 80, targetPort: 8080}, {name: tls, port: 443}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.RootNamespace() != "mesh-root" || !reflect.DeepEqual(p.Revisions, []string{"canary"}) || len(p.IngressGateways) != 1 ||
		p.IngressGateways[0].Ports[1].TargetPort != 443 || p.IngressGateways[0].String() != "edge-system/edge" {
		t.Errorf("platform = %+v", p)
	}
	d, err := ParsePlatform(PlatformFile, nil)
	if err != nil || d.RootNamespace() != "istio-system" || d.IngressGateways[0].String() != "istio-system/istio-ingressgateway" {
		t.Errorf("empty platform.yaml = %+v, %v; want the default profile", d, err)
	}
}

// BenchmarkAnalyzeDev is pilot's cost for one target (the fixture's dev overlay).
func BenchmarkAnalyzeDev(b *testing.B) {
	ix := renderDev(b, fixture)
	a := &Analyzer{Platform: DefaultPlatform()}
	for b.Loop() {
		if _, err := a.Analyze(ix); err != nil {
			b.Fatal(err)
		}
	}
}
