package check

import (
	"path/filepath"
	"testing"
)

// runOn renders testdata/typed/<name> as an overlay of its own and runs
// checks on it, failing on an internal error (a recovered panic).
func runOn(t *testing.T, name string, checks ...*Check) []Finding {
	t.Helper()
	ix := renderFixture(t, filepath.Join("testdata", "typed", name))
	env := &Env{RootNamespace: "istio-system"}
	var out []Finding
	for _, c := range checks {
		for _, f := range c.Run(ix, env) {
			if f.Code == InternalError.Code {
				t.Fatalf("%s crashed: %s", c.Code, f.Message)
			}
			out = append(out, f)
		}
	}
	return out
}

// expectFindings compares findings with the exact code, resource, line and
// message each must have.
func expectFindings(t *testing.T, got []Finding, want ...Finding) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d:", len(got), len(want))
		for _, f := range got {
			t.Errorf("  got %s", f)
		}
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Code != w.Code || g.Resource != w.Resource || g.Line != w.Line || g.Message != w.Message {
			t.Errorf("finding %d:\n got  %s %s line %d: %s\n want %s %s line %d: %s", i, g.Code, g.Resource, g.Line, g.Message, w.Code, w.Resource, w.Line, w.Message)
		}
	}
}

// TestRouteHostsBesideWebhook: RT002 reports a host its Gateway does not
// serve, and stays quiet where istiod's webhook refuses a host of the
// Gateway or of the VirtualService, which IS002 reports: one mistake, one
// finding.
func TestRouteHostsBesideWebhook(t *testing.T) {
	t.Run("mismatch", func(t *testing.T) {
		expectFindings(t, runOn(t, "route-hosts-mismatch.yaml", IstioWebhook, RouteHosts),
			Finding{Code: "RT002", Resource: "VirtualService shop/shop", Line: 24,
				Message: `host "shop.internal.example" is not served by its gateways (they serve shop.internal.test): make the VirtualService and Gateway hosts agree`})
	})
	t.Run("gateway host refused", func(t *testing.T) {
		expectFindings(t, runOn(t, "route-hosts-gateway-refused.yaml", IstioWebhook, RouteHosts),
			Finding{Code: "IS002", Resource: "Gateway shop/shop", Line: 15,
				Message: `rejected at admission: domain name "shop_internal.test" invalid (label "shop_internal" invalid); fix the field it names`})
	})
	t.Run("virtualservice host refused", func(t *testing.T) {
		expectFindings(t, runOn(t, "route-hosts-virtualservice-refused.yaml", IstioWebhook, RouteHosts),
			Finding{Code: "IS002", Resource: "VirtualService shop/shop", Line: 24,
				Message: `rejected at admission: domain name "shop internal" invalid (label "shop internal" invalid); fix the field it names`})
	})
}

// TestRoutesWithNullDestination: `route: [null]` (a stray "-") panicked
// RT003, RT004 and RT007 on the generic map. On the typed form the null
// entry has no destination: only the real one (route[1]) is judged.
func TestRoutesWithNullDestination(t *testing.T) {
	expectFindings(t, runOn(t, "null-route.yaml", RouteDestinations, RouteDestinationPort, RouteProtocol),
		Finding{Code: "RT003", Resource: "VirtualService shop/shop", Line: 10,
			Message: `http[0].route[1] destination host "shop" is no Service in this overlay: check the name and namespace (short names resolve in namespace shop)`})
}

// TestWasmPluginTypedForm: the WasmPlugin checks read the typed spec; a
// WasmPlugin that does not decode strictly has none, and only IS002
// reports it, not every check its other fields would fail.
func TestWasmPluginTypedForm(t *testing.T) {
	checks := []*Check{IstioWebhook, WasmPluginReach, PluginImage, PluginConfig}
	t.Run("decodes", func(t *testing.T) {
		expectFindings(t, runOn(t, "wasmplugin.yaml", checks...),
			Finding{Code: "IS002", Resource: "WasmPlugin shop/headers", Line: 30,
				Message: `rejected at admission: url contains unsupported scheme: registry.internal.test; fix the field it names`},
			Finding{Code: "WP001", Resource: "WasmPlugin shop/headers", Line: 27,
				Message: `selector matchLabels {app: shopp} matches no workload in namespace shop: closest is Deployment shop/shop, where app: shopp vs app: shop; make the selector match its pod template labels`},
			Finding{Code: "WP004", Resource: "WasmPlugin shop/headers", Line: 30,
				Message: `url "registry.internal.test:5000/edge/headers:v3" has no oci://, http(s):// or file:// scheme: Istio misreads a registry host with a port as a scheme; write oci://registry.internal.test:5000/edge/headers:v3`},
			Finding{Code: "WP005", Resource: "WasmPlugin shop/headers", Line: 31,
				Message: "pluginConfig: responseHeaders[0].name: \"x shop\" is not a valid HTTP header name: character ' ' at byte 1 is not allowed (RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~) (the plugin would refuse to start)"})
	})
	t.Run("unknown field", func(t *testing.T) {
		expectFindings(t, runOn(t, "wasmplugin-unknown-field.yaml", checks...),
			Finding{Code: "IS002", Resource: "WasmPlugin shop/headers", Line: 29,
				Message: `rejected at admission: error decoding configuration: unknown field "failStrategyy" in istio.extensions.v1alpha1.WasmPlugin; fix the field it names`})
	})
}
