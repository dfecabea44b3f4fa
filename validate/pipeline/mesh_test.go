package pipeline

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
)

// meshFixture loads testdata/mesh/repo, a small repository with its own
// names, hosts and registry (a fork's), with the files of
// testdata/mesh/cases/<name> laid over it.
func meshFixture(t *testing.T, name string) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir("testdata/mesh/repo")
	if err != nil {
		t.Fatal(err)
	}
	if name == "" {
		return tree
	}
	dir := filepath.Join("testdata/mesh/cases", name)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		return tree.Add(filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// errorsOf returns the error-level findings as "CODE file (resource)".
func errorsOf(fs []check.Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Severity == check.Error {
			out = append(out, f.Code+" "+f.File+" ("+f.Resource+")")
		}
	}
	sort.Strings(out)
	return out
}

// TestMeshAnswers runs the validator on each broken and clean variant of the
// fixture and expects exactly the listed error findings, each naming the
// file to change, with the message fragment given.
func TestMeshAnswers(t *testing.T) {
	tests := []struct {
		name    string
		want    []string
		message string
	}{
		{"", nil, ""},
		{"clean-pod-label", nil, ""},
		{"clean-two-virtualservices", nil, ""},
		{"clean-root-plugin", nil, ""},
		// A short host resolves in the namespace of the object that names it,
		// under the cluster's domain (cluster.local): the route's subset and
		// the DestinationRule's are one (issue 17: RT008 failed this).
		{"clean-short-host-subset", nil, ""},
		{"platform-gateway", nil, ""},
		{"annotation-injection", []string{"WP010 base/deployment.yaml (Deployment shop/web)"},
			`make sidecar.istio.io/inject: "true" a label of the pod template`},
		{"network-type", []string{"WP011 base/wasmplugin.yaml (WasmPlugin shop/edge-hdr)"},
			"type: NETWORK runs the plugin as a TCP network filter"},
		{"match-port", []string{"WP012 base/wasmplugin.yaml (WasmPlugin shop/edge-hdr)"},
			"match [{mode: SERVER, ports: [9090]}] selects none of the inbound traffic of Deployment shop/web"},
		{"match-client", []string{"WP012 base/wasmplugin.yaml (WasmPlugin shop/edge-hdr)"},
			"match [{mode: CLIENT}] selects none of the inbound traffic of Deployment shop/web"},
		{"undefined-subset", []string{"RT008 base/virtualservice.yaml (VirtualService shop/shop)"},
			`routed to subset "v2" of web.shop.svc.cluster.local (port 80), which no DestinationRule defines`},
		{"gateway-selector", []string{"RT010 base/gateway.yaml (Gateway shop/shop)"},
			"selector {istio: ingress-gateway} matches no ingress gateway the clusters run: Istio's default profile"},
		{"platform-mismatch", []string{"RT010 base/gateway.yaml (Gateway shop/shop)"},
			"platform.yaml declares edge-system/edge {app: edge-gw}"},
		{"host-no-route", []string{"RT009 base/gateway.yaml (Gateway shop/shop)"},
			"a request to http://api.acme.test/ (port 80) at istio-system/istio-ingressgateway matches no route"},
		{"selector-typo", []string{"WP001 base/wasmplugin.yaml (WasmPlugin shop/edge-hdr)"},
			"app: wbe vs app: web"},
	}
	for _, tt := range tests {
		name := tt.name
		if name == "" {
			name = "clean"
		}
		t.Run(name, func(t *testing.T) {
			res, err := RunTree(meshFixture(t, tt.name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := errorsOf(res.Findings)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				var all []string
				for _, f := range res.Findings {
					all = append(all, f.String())
				}
				t.Fatalf("errors:\n%s\nwant:\n%s\nall findings:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), strings.Join(all, "\n"))
			}
			for _, f := range res.Findings {
				if f.Severity == check.Error && !strings.Contains(f.Message, tt.message) {
					t.Errorf("%s message %q does not contain %q", f.Code, f.Message, tt.message)
				}
			}
		})
	}
}

// TestPlatformErrorNamesTheLine: a platform.yaml the validator cannot use
// stops the run with one error naming the file and line.
func TestPlatformErrorNamesTheLine(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"ingressGateways:\n  - name: edge\n    namespace: edge-system\n    ports: [{port: 80}]\n", "platform.yaml:2: ingressGateways[0] (edge-system/edge): labels are required"},
		{"ingresGateways: []\n", "platform.yaml:1: field ingresGateways not found"},
		{"meshConfig:\n  rootNamespac: x\n", "platform.yaml:2: meshConfig:"},
	}
	for _, tt := range tests {
		tree := meshFixture(t, "")
		if err := tree.Add("platform.yaml", []byte(tt.doc)); err != nil {
			t.Fatal(err)
		}
		_, err := RunTree(tree, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("platform.yaml %q: error %v, want one containing %q", tt.doc, err, tt.want)
		}
	}
}
