package explain

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/istiocharts"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

const fixture = "../pipeline/testdata/mesh/repo"

func loadTree(t *testing.T, root string) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func replace(t *testing.T, tree *render.Tree, file, old, new string) {
	t.Helper()
	data, err := tree.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := tree.Add(file, []byte(strings.Replace(string(data), old, new, 1))); err != nil {
		t.Fatal(err)
	}
}

func TestExplainFixture(t *testing.T) {
	rep, err := Environment(loadTree(t, fixture), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error != "" || len(rep.Hosts) != 1 || len(rep.Hosts[0].Responses) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	resp := rep.Hosts[0].Responses[0]
	want := [][2]string{{":status", "200"}, {"x-shop", "acme"}, {"x-stage", "dev"}}
	if rep.Hosts[0].URL != "http://shop.acme.test/" || resp.From != "Deployment shop/web" || !reflect.DeepEqual(resp.Headers, want) {
		t.Errorf("host %s, response from %s: %q, want %q", rep.Hosts[0].URL, resp.From, resp.Headers, want)
	}
	if len(resp.Plugins) != 1 || resp.Plugins[0].At != "sidecar of Deployment shop/web" || resp.Plugins[0].Plugin != "shop/edge-hdr" || resp.Plugins[0].FailStrategy != "FAIL_OPEN" {
		t.Errorf("plugins = %+v", resp.Plugins)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Deployment shop/web (base/deployment.yaml): Envoy sidecar, because namespace shop has istio-injection=enabled",
		"extensions.istio.io/trafficextension/shop.edge-hdr~istio-translated-wasmplugin: WasmPlugin shop/edge-hdr, type HTTP, phase UNSPECIFIED_PHASE, priority unset",
		"url oci://registry.acme.test:5443/platform/edge-hdr:v1.0.0, failStrategy FAIL_OPEN",
		"x-stage: dev", "cluster outbound|80||web.shop.svc.cluster.local"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(back.Hosts[0].Responses[0].Headers, want) {
		t.Errorf("json round trip: %v, %+v", err, back.Hosts)
	}
}

func TestExplainSelectorTypo(t *testing.T) {
	tree := loadTree(t, fixture)
	replace(t, tree, "base/wasmplugin.yaml", "      app: web", "      app: wbe")
	rep, err := Environment(tree, "dev")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"no Wasm plugin runs here", "no Wasm plugin runs on it"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
	if h := rep.Hosts[0].Responses[0].Headers; !reflect.DeepEqual(h, [][2]string{{":status", "200"}}) {
		t.Errorf("headers = %q, want none from the plugin", h)
	}
}

func TestUnknownEnvironment(t *testing.T) {
	_, err := Environment(loadTree(t, fixture), "qa")
	if err == nil || !strings.Contains(err.Error(), `no environment "qa": the overlays are dev`) {
		t.Errorf("err = %v", err)
	}
}

// TestShippedDevHost: on the repository itself (a fork included), the dev
// host's responses carry exactly the headers overlays/dev's pluginConfig lists.
func TestShippedDevHost(t *testing.T) {
	tree := loadTree(t, "../..")
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New(res)
	var want [][2]string
	host := ""
	for _, o := range ix.Kind("WasmPlugin") {
		cfg, _ := o.Spec()["pluginConfig"].(map[string]any)
		list, _ := cfg["responseHeaders"].([]any)
		for _, h := range list {
			m, _ := h.(map[string]any)
			want = append(want, [2]string{m["name"].(string), m["value"].(string)})
		}
	}
	for _, o := range ix.Kind("VirtualService") {
		hosts, _ := o.Spec()["hosts"].([]any)
		host, _ = hosts[0].(string)
	}
	if len(want) == 0 || host == "" {
		t.Fatal("overlays/dev renders no pluginConfig headers or no VirtualService host")
	}
	rep, err := Environment(tree, "dev")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.Hosts {
		if h.URL != "http://"+host+"/" {
			continue
		}
		got := h.Responses[0].Headers
		if !reflect.DeepEqual(got[1:], want) {
			t.Errorf("%s: headers %q, want %q", h.URL, got, want)
		}
		return
	}
	t.Errorf("no host %s in %+v", host, rep.Hosts)
}

func TestChanges(t *testing.T) {
	base := loadTree(t, fixture)
	head := loadTree(t, fixture)
	replace(t, head, "overlays/dev/wasmplugin.yaml", "value: dev", "value: qa")
	replace(t, head, "overlays/dev/wasmplugin.yaml", "        value: acme\n", "        value: acme\n      - name: x-team\n        value: shop\n")
	b, err := Overlays(base)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Overlays(head)
	if err != nil {
		t.Fatal(err)
	}
	got := Changes(b, h)
	want := []string{
		"dev: responses from shop.acme.test gain `x-team: shop`",
		"dev: responses from shop.acme.test change `x-stage: dev` -> `x-stage: qa`",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Changes(b, b); len(got) != 0 {
		t.Errorf("no change: %q", got)
	}
}

// BenchmarkExplainDev is make explain ENV=dev on the shipped repository,
// warm: load, render, ask istiod, run the plugin.
func BenchmarkExplainDev(b *testing.B) {
	for b.Loop() {
		tree, err := render.LoadDir("../..")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Environment(tree, "dev"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExplainGatewayWhereInstalled: on the platform derived from a real
// render of Istio's gateway chart, make explain shows the gateway in the
// namespace the release installs it in, and the release's line.
func TestExplainGatewayWhereInstalled(t *testing.T) {
	tree := loadTree(t, fixture)
	objs := istiocharts.Render(t, filepath.Join(istiocharts.Dir(t), "gateway"), "istio-ingressgateway", "istio-ingress", nil)
	p, _ := mesh.DerivePlatform([]mesh.Release{{Name: "HelmRelease istio-ingress/istio-ingressgateway",
		File: "infrastructure/istio/releases.yaml", Line: 36, Objects: objs}}, nil)
	targets, err := render.Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	var rep *Report
	for _, tg := range targets {
		if tg.Kind == render.Overlay && tg.Name() == "dev" {
			if rep, err = TargetOn(tree, tg, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep == nil || rep.Error != "" {
		t.Fatalf("report = %+v", rep)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "\ningress gateway istio-ingress/istio-ingressgateway, installed by infrastructure/istio/releases.yaml:36\n") ||
		strings.Contains(text.String(), "istio-system/istio-ingressgateway") {
		t.Errorf("text output does not place the gateway where the release installs it:\n%s", text.String())
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Gateway != "istio-ingress/istio-ingressgateway" {
		t.Errorf("hosts = %+v", rep.Hosts)
	}
}

const gatewayAPIFixture = "../mesh/testdata/gatewayapi"

// TestExplainGatewayAPI: the HTTPRoute's host answers through the gateway
// istiod deploys for the Gateway API Gateway (edge/web-istio), and the
// response carries the header of the WasmPlugin that targets the Gateway.
func TestExplainGatewayAPI(t *testing.T) {
	rep, err := Environment(loadTree(t, gatewayAPIFixture), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error != "" || len(rep.Hosts) != 1 || len(rep.Hosts[0].Responses) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	h := rep.Hosts[0]
	resp := h.Responses[0]
	want := [][2]string{{":status", "200"}, {"x-environment", "dev"}}
	if h.URL != "http://shop.acme.test/" || h.Gateway != "edge/web-istio" || resp.From != "Deployment shop/web" || !reflect.DeepEqual(resp.Headers, want) {
		t.Errorf("host %s at %s, response from %s: %q, want http://shop.acme.test/ at edge/web-istio from Deployment shop/web: %q", h.URL, h.Gateway, resp.From, resp.Headers, want)
	}
	if len(resp.Plugins) != 1 || resp.Plugins[0].At != "gateway edge/web-istio" || resp.Plugins[0].Plugin != "edge/edge-headers" {
		t.Errorf("plugins = %+v, want edge/edge-headers at gateway edge/web-istio", resp.Plugins)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"edge/web-istio", "http://shop.acme.test/", "x-environment: dev"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
}

// TestChangesGatewayAPI: a change to the plugin's headers on a Gateway API
// host is a change of that host's responses, never "no longer answers".
func TestChangesGatewayAPI(t *testing.T) {
	base := loadTree(t, gatewayAPIFixture)
	head := loadTree(t, gatewayAPIFixture)
	replace(t, head, "overlays/dev/wasmplugin.yaml", "value: dev", "value: qa")
	b, err := Overlays(base)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Overlays(head)
	if err != nil {
		t.Fatal(err)
	}
	got := Changes(b, h)
	want := []string{"dev: responses from shop.acme.test change `x-environment: dev` -> `x-environment: qa`"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Changes(b, b); len(got) != 0 {
		t.Errorf("no change: %q", got)
	}
}

// TestExplainTCPPort: a Service port named tcp-web makes istiod serve the
// pod port as TCP, so the sidecar's Wasm plugin never sees the response
// (validate's RT007); explain says so instead of showing its headers.
func TestExplainTCPPort(t *testing.T) {
	tree := loadTree(t, fixture)
	replace(t, tree, "base/service.yaml", "    - name: http\n", "    - name: tcp-web\n")
	rep, err := Environment(tree, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error != "" || len(rep.Hosts) != 1 || len(rep.Hosts[0].Responses) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	resp := rep.Hosts[0].Responses[0]
	if len(resp.Plugins) != 0 || !reflect.DeepEqual(resp.Headers, [][2]string{{":status", "200"}}) || !strings.Contains(resp.Note, "as TCP") {
		t.Errorf("response from %s: plugins %+v, headers %q, note %q", resp.From, resp.Plugins, resp.Headers, resp.Note)
	}
}
