package index_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	extensions "istio.io/api/extensions/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	typev1beta1 "istio.io/api/type/v1beta1"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// renderFixture renders testdata/istio/<name> as the only resource of an
// overlay and indexes it.
func renderFixture(t *testing.T, name string) *index.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "istio", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := path.Join("overlays", strings.TrimSuffix(name, ".yaml"))
	tree := render.NewTree("istio")
	for rel, content := range map[string][]byte{
		path.Join(dir, name):                 data,
		path.Join(dir, "kustomization.yaml"): []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + name + "\n"),
	} {
		if err := tree.Add(rel, content); err != nil {
			t.Fatal(err)
		}
	}
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return index.New(res)
}

func TestIstioTypedForms(t *testing.T) {
	ix := renderFixture(t, "routing.yaml")

	// Keyed by group and kind: the Gateway API Gateway of the same name is
	// not an Istio Gateway and has no typed form.
	gws := ix.Gateways()
	if len(gws) != 1 || gws[0].Group != "networking.istio.io" {
		t.Fatalf("Gateways() = %v, want the networking.istio.io Gateway shop/shop only", gws)
	}
	if got := gws[0].Spec.GetSelector()["istio"]; got != "ingressgateway" {
		t.Errorf("Gateway selector istio = %q, want ingressgateway", got)
	}
	if s := gws[0].Spec.GetServers(); len(s) != 1 || s[0].GetPort().GetNumber() != 8080 || strings.Join(s[0].GetHosts(), ",") != "shop.internal.test" {
		t.Errorf("Gateway servers = %v, want port 8080 for shop.internal.test", s)
	}
	for _, o := range ix.GroupKind("gateway.networking.k8s.io", "Gateway") {
		if _, ok := index.IstioSpec[*networking.Gateway](o); ok {
			t.Errorf("%s (gateway.networking.k8s.io) has an Istio Gateway typed form", o)
		}
		if _, err := o.Istio(); err == nil {
			t.Errorf("%s (gateway.networking.k8s.io) decodes as an Istio object", o)
		}
	}

	// networking.istio.io v1beta1 decodes into the v1alpha3 struct, which
	// v1 and v1beta1 alias.
	vss := ix.VirtualServices()
	if len(vss) != 1 {
		t.Fatalf("VirtualServices() = %v, want shop/shop", vss)
	}
	vs := vss[0].Spec
	if strings.Join(vs.GetHosts(), ",") != "shop.internal.test" || strings.Join(vs.GetGateways(), ",") != "shop" {
		t.Errorf("VirtualService hosts %v gateways %v", vs.GetHosts(), vs.GetGateways())
	}
	if len(vs.GetHttp()) != 2 || len(vs.GetTcp()) != 1 {
		t.Fatalf("VirtualService has %d http and %d tcp routes, want 2 and 1", len(vs.GetHttp()), len(vs.GetTcp()))
	}
	d := vs.GetHttp()[0].GetRoute()[0].GetDestination()
	if d.GetHost() != "cart" || d.GetSubset() != "v2" || d.GetPort().GetNumber() != 9090 {
		t.Errorf("http[0].route[0].destination = %v, want cart subset v2 port 9090", d)
	}
	if p := vs.GetHttp()[1].GetRoute()[0].GetDestination().GetPort(); p != nil {
		t.Errorf("http[1].route[0].destination.port = %v, want unset", p)
	}
	if vs.GetHttp()[0].GetMatch()[0].GetUri().GetPrefix() != "/cart/" {
		t.Errorf("http[0].match[0].uri = %v, want prefix /cart/", vs.GetHttp()[0].GetMatch()[0].GetUri())
	}
	if d := vs.GetTcp()[0].GetRoute()[0].GetDestination(); d.GetHost() != "db" || d.GetPort().GetNumber() != 5432 {
		t.Errorf("tcp[0].route[0].destination = %v, want db port 5432", d)
	}

	drs := ix.DestinationRules()
	if len(drs) != 1 || drs[0].Spec.GetHost() != "cart" || len(drs[0].Spec.GetSubsets()) != 1 ||
		drs[0].Spec.GetSubsets()[0].GetName() != "v2" || drs[0].Spec.GetSubsets()[0].GetLabels()["version"] != "v2" {
		t.Errorf("DestinationRules() = %v, want cart with subset v2 {version: v2}", drs)
	}
	ses := ix.ServiceEntries()
	if len(ses) != 1 || strings.Join(ses[0].Spec.GetHosts(), ",") != "payments.example.net" {
		t.Errorf("ServiceEntries() = %v, want payments.example.net", ses)
	}

	wps := ix.WasmPlugins()
	if len(wps) != 1 {
		t.Fatalf("WasmPlugins() = %v, want shop/headers", wps)
	}
	wp := wps[0].Spec
	if wp.GetSelector().GetMatchLabels()["app"] != "shop" || wp.GetUrl() != "oci://registry.internal.test:5000/edge/headers:v3" ||
		wp.GetSha256() != "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" || wp.GetImagePullSecret() != "pull" {
		t.Errorf("WasmPlugin selector, url, sha256 or imagePullSecret: %v", wp)
	}
	if wp.GetPhase() != extensions.PluginPhase_STATS || wp.GetType() != extensions.PluginType_HTTP {
		t.Errorf("WasmPlugin phase %v type %v, want STATS and HTTP", wp.GetPhase(), wp.GetType())
	}
	if m := wp.GetMatch(); len(m) != 1 || m[0].GetMode() != typev1beta1.WorkloadMode_SERVER || len(m[0].GetPorts()) != 1 || m[0].GetPorts()[0].GetNumber() != 8080 {
		t.Errorf("WasmPlugin match = %v, want mode SERVER port 8080", m)
	}
	headers := wp.GetPluginConfig().GetFields()["responseHeaders"].GetListValue().GetValues()
	if len(headers) != 1 || headers[0].GetStructValue().GetFields()["value"].GetStringValue() != "on" {
		t.Errorf("WasmPlugin pluginConfig = %v, want responseHeaders [{name: x-shop, value: \"on\"}]", wp.GetPluginConfig())
	}
	if len(wp.GetTargetRefs()) != 0 || wp.GetTargetRef() != nil {
		t.Errorf("WasmPlugin targetRefs %v targetRef %v, want none", wp.GetTargetRefs(), wp.GetTargetRef())
	}

	// A Kubernetes kind has no Istio typed form.
	for _, o := range ix.Objects {
		if o.Kind == "WasmPlugin" {
			if _, ok := index.IstioSpec[*networking.VirtualService](o); ok {
				t.Errorf("%s has a VirtualService typed form", o)
			}
		}
	}
}

// TestIstioDecodedOnce: the typed form is decoded once per object and
// shared by every lookup and by the indexes that share the object.
func TestIstioDecodedOnce(t *testing.T) {
	ix := renderFixture(t, "routing.yaml")
	o := ix.Get("VirtualService", "shop", "shop")
	first, err := o.Istio()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := o.Istio()
	if first != again {
		t.Error("a second Istio() decoded the object again")
	}
	if ix.VirtualServices()[0].Spec != first.Spec() {
		t.Error("VirtualServices() holds another decoding of the object")
	}
	narrowed := ix.Narrow(o)
	if narrowed.VirtualServices()[0].Spec != first.Spec() {
		t.Error("a narrowed index decoded the object again")
	}
}

// TestIstioNoTypedForm: a spec the strict decoder refuses has no typed form,
// and the error is the one IS002 reports.
func TestIstioNoTypedForm(t *testing.T) {
	for name, want := range map[string]string{
		"unknown-field.yaml": `unknown field "hostz"`,
		"bad-enum.yaml":      `EARLY`,
	} {
		t.Run(name, func(t *testing.T) {
			ix := renderFixture(t, name)
			if len(ix.Objects) != 1 {
				t.Fatalf("%d objects rendered, want 1", len(ix.Objects))
			}
			o := ix.Objects[0]
			_, err := o.Istio()
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "error decoding configuration: ") {
				t.Errorf("Istio() error = %v, want istiod's decoding error naming %s", err, want)
			}
			if n := len(ix.VirtualServices()) + len(ix.WasmPlugins()); n != 0 {
				t.Errorf("%d typed objects, want none", n)
			}
		})
	}
}

// TestIstioNullRoute: `route: [null]` (a stray "-") decodes strictly: the
// decoder reads the null as an empty HTTPRouteDestination, whose
// destination is nil (IS001 reports the null). The typed accessors are
// nil-safe, so no check dereferences it.
func TestIstioNullRoute(t *testing.T) {
	ix := renderFixture(t, "null-route.yaml")
	vss := ix.VirtualServices()
	if len(vss) != 1 {
		t.Fatalf("VirtualServices() = %v, want shop/shop", vss)
	}
	r := vss[0].Spec.GetHttp()[0].GetRoute()
	if len(r) != 2 {
		t.Fatalf("http[0].route has %d entries, want 2", len(r))
	}
	if r[0].GetDestination() != nil {
		t.Errorf("http[0].route[0].destination = %v, want nil", r[0].GetDestination())
	}
	if r[0].GetDestination().GetHost() != "" || r[0].GetDestination().GetPort().GetNumber() != 0 {
		t.Error("a nil destination's getters returned values")
	}
	if got := r[1].GetDestination().GetHost(); got != "shop" {
		t.Errorf("http[0].route[1].destination.host = %q, want shop", got)
	}
}
