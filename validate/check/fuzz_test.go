package check_test

import (
	"os"
	"path/filepath"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// FuzzChecks renders random YAML documents as an overlay's only resource file
// and runs every target check on whatever Kustomize accepts: no input may
// panic a check.
func FuzzChecks(f *testing.F) {
	seeds, _ := filepath.Glob("../../base/*/*.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: p, namespace: blog}\nspec:\n  selector: {matchLabels: {app: [1]}}\n  targetRefs: [7, {kind: Gateway}]\n  url: 'oci://'\n  pluginConfig: {responseHeaders: [{name: 1}]}\n"))
	f.Add([]byte("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  gateways: [a/b/c, mesh]\n  http: [{route: [{destination: {host: 'x', port: {number: 'eighty'}}}]}, 3]\n"))
	f.Add([]byte("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: blog}\nspec:\n  hosts: [blog]\n  http:\n    - route:\n        -\n"))
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {app: x}, ports: [{port: 80, targetPort: web}]}\n"))
	v, err := istio.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		tree := render.NewTree("fuzz")
		_ = tree.Add("overlays/fuzz/kustomization.yaml", []byte("resources:\n- resource.yaml\n"))
		_ = tree.Add("overlays/fuzz/resource.yaml", doc)
		res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/fuzz"})
		if err != nil {
			return // refused input is fine; a panic is not
		}
		env := &check.Env{RootNamespace: "istio-system", Istio: v, Tree: tree}
		ix := index.New(res)
		for _, c := range check.All() {
			for _, fd := range c.Run(ix, env) {
				if fd.Code == check.InternalError.Code {
					t.Fatalf("check %s crashed (recovered as %s): %s", c.Code, fd.Code, fd.Message)
				}
				if fd.Code != c.Code || fd.Message == "" || fd.File == "" {
					t.Fatalf("malformed finding %+v", fd)
				}
			}
		}
	})
}
