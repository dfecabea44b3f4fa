package mesh

import (
	"strings"
	"testing"
)

const gatewayAPIFixture = "testdata/gatewayapi"

// TestGatewayAPIAnswer: a Gateway of class istio gets the gateway istiod's
// deployment controller would run, the HTTPRoute's host is simulated
// through it to the backend in another namespace (allowed by the
// ReferenceGrant), the WasmPlugin's targetRefs put its filter on it, and
// istiod's route status accepts the route and resolves its refs.
func TestGatewayAPIAnswer(t *testing.T) {
	ans, err := (&Analyzer{Platform: DefaultPlatform()}).Analyze(renderDev(t, gatewayAPIFixture))
	if err != nil {
		t.Fatal(err)
	}
	var gw *Gateway
	for _, g := range ans.Gateways {
		if g.Kube != nil {
			gw = g
		}
	}
	if gw == nil || gw.Name != "edge/web-istio" || gw.Kube.Spec.Name != "web" {
		t.Fatalf("no gateway edge/web-istio for Gateway edge/web: %+v", ans.Gateways)
	}
	var got []string
	for _, r := range gw.Routes {
		from := ""
		if r.HTTPRoute != nil {
			from = r.HTTPRoute.String()
		}
		got = append(got, r.Host+r.Path+" "+r.Cluster+" "+strings.Join(r.Endpoints, ",")+" "+from+" "+r.Error)
	}
	want := []string{"shop.acme.test/ outbound|80||web.shop.svc.cluster.local Deployment shop/web HTTPRoute edge/shop "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	p := ans.Plugins["edge/edge-headers"]
	if p == nil || strings.Join(p.Attached, ",") != "gateway edge/web-istio" {
		t.Errorf("plugin attached to %v, want [gateway edge/web-istio]", p)
	}
	var wasm *WasmFilter
	for _, c := range gw.Chains {
		for _, f := range c.Filters {
			if f.Wasm != nil {
				wasm = f.Wasm
			}
		}
	}
	if wasm == nil || !strings.Contains(wasm.PluginConfig, "x-environment") {
		t.Errorf("gateway's wasm filter = %+v, want the dev pluginConfig", wasm)
	}
	if len(ans.RouteStatuses) != 1 {
		t.Fatalf("%d route statuses, want 1", len(ans.RouteStatuses))
	}
	var conds []string
	for _, ps := range ans.RouteStatuses[0].Parents {
		for _, c := range ps.Conditions {
			conds = append(conds, string(ps.ParentRef.Name)+" "+c.Type+"="+string(c.Status)+" "+c.Reason)
		}
	}
	wantConds := []string{"web Accepted=True Accepted", "web ResolvedRefs=True ResolvedRefs"}
	if strings.Join(conds, "\n") != strings.Join(wantConds, "\n") {
		t.Errorf("route status:\n%s\nwant:\n%s", strings.Join(conds, "\n"), strings.Join(wantConds, "\n"))
	}
}
