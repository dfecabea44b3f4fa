package index_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

func TestGatewayAPITypedAccessors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "gatewayapi", "objects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tree := render.NewTree("gatewayapi")
	for rel, content := range map[string][]byte{
		"overlays/dev/objects.yaml":       data,
		"overlays/dev/kustomization.yaml": []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - objects.yaml\n"),
	} {
		if err := tree.Add(rel, content); err != nil {
			t.Fatal(err)
		}
	}
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New(res)

	var got []string
	for _, g := range ix.GatewayClasses() {
		got = append(got, "GatewayClass "+g.Value.Name+" "+string(g.Value.Spec.ControllerName))
	}
	for _, g := range ix.KubeGateways() {
		got = append(got, g.Object.String()+" class "+string(g.Value.Spec.GatewayClassName)+" listener "+string(g.Value.Spec.Listeners[0].Name))
	}
	for _, r := range ix.HTTPRoutes() {
		got = append(got, r.Object.String()+" "+string(r.Value.Spec.Hostnames[0])+" -> "+string(*r.Value.Spec.Rules[0].BackendRefs[0].Namespace)+"/"+string(r.Value.Spec.Rules[0].BackendRefs[0].Name))
	}
	for _, r := range ix.GRPCRoutes() {
		got = append(got, r.Object.String()+" parent "+string(r.Value.Spec.ParentRefs[0].Name))
	}
	for _, g := range ix.ReferenceGrants() {
		got = append(got, g.Object.String()+" from "+string(g.Value.Spec.From[0].Namespace))
	}
	want := []string{
		"GatewayClass other example.com/gateway-controller",
		"Gateway edge/web class istio listener http",
		"HTTPRoute edge/shop shop.acme.test -> shop/web",
		"GRPCRoute edge/api parent web",
		"ReferenceGrant shop/edge-routes from edge",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("typed objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	broken := ix.Get("HTTPRoute", "edge", "broken")
	if broken == nil {
		t.Fatal("HTTPRoute edge/broken not indexed")
	}
	if _, err := broken.GatewayAPI(); err == nil || !strings.Contains(err.Error(), "HTTPRoute edge/broken") {
		t.Errorf("decoding a port that is no number: err = %v, want an error naming HTTPRoute edge/broken", err)
	}
	istioGateway := ix.GroupKind("networking.istio.io", "Gateway")
	if len(istioGateway) != 1 {
		t.Fatalf("%d Istio Gateways, want 1", len(istioGateway))
	}
	if _, err := istioGateway[0].GatewayAPI(); err == nil {
		t.Error("an Istio Gateway has a Gateway API typed form")
	}
}
