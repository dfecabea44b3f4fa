package pipeline

import (
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
	"meshops.dev/meshops/validate/variants"
)

const repoRoot = "../.."

func load(t *testing.T) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// TestCleanRepositoryHasNoFinding runs on the repository itself, whatever
// values a fork has put in it.
func TestCleanRepositoryHasNoFinding(t *testing.T) {
	res, err := RunTree(load(t), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("unexpected finding: %s", f)
	}
	if len(res.Targets) == 0 {
		t.Error("no target rendered")
	}
}

// forkWith returns the fork fixture with edits applied; an edit that does
// not apply exactly once fails the test.
func forkWith(t *testing.T, edits ...variants.Edit) *render.Tree {
	t.Helper()
	files, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := (variants.Variant{Name: t.Name(), Edits: edits}).Apply(files); err != nil {
		t.Fatal(err)
	}
	return treeOf(t, files)
}

func TestIgnoreAnnotation(t *testing.T) {
	typo := variants.Edit{File: "base/wasmplugin/wasmplugin.yaml", Old: "      app: blog\n", New: "      app: blgo\n"}
	// Without the annotation the typo is a finding: the edit did apply.
	res, err := RunTree(forkWith(t, typo), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatal("the selector typo gives no finding: the test proves nothing")
	}
	ignore := variants.Edit{File: "base/wasmplugin/wasmplugin.yaml", Old: "  namespace: blog\n",
		New: "  namespace: blog\n  annotations:\n    " + check.IgnoreAnnotation + ": IMG001, WP001\n"}
	res, err = RunTree(forkWith(t, typo, ignore), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("finding not silenced: %s", f)
	}
}

func TestStableOutput(t *testing.T) {
	tree := forkWith(t, variants.Edit{File: "base/blog/service.yaml", Old: "targetPort: http", New: "targetPort: web"})
	first, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Findings) == 0 {
		t.Fatal("the broken targetPort gives no finding: the test proves nothing")
	}
	for i := 0; i < 3; i++ {
		again, err := RunTree(tree, Options{RootNamespace: "istio-system"})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Findings) != len(first.Findings) {
			t.Fatalf("run %d: %d findings, first run %d", i, len(again.Findings), len(first.Findings))
		}
		for j := range again.Findings {
			if again.Findings[j].String() != first.Findings[j].String() {
				t.Errorf("run %d finding %d: %s, first run %s", i, j, again.Findings[j], first.Findings[j])
			}
		}
	}
}

// TestPluginPin proves that an overlay's images: entry pins the plugin url
// right, and that the result passes every check including Istio's admission,
// for a registry without a port and for one with a port.
func TestPluginPin(t *testing.T) {
	const fixtureRepo = "oci://registry.fork.test:5443/platform/edge-headers"
	tests := []struct{ repo, pin, want string }{
		{"oci://ghcr.io/acme/edge-headers", "newTag: v2", "oci://ghcr.io/acme/edge-headers:v2"},
		{"oci://localhost:5000/team/plugin", "newTag: v2", "oci://localhost:5000/team/plugin:v2"},
		{"oci://localhost:5000/team/plugin", "digest: sha256:" + strings.Repeat("0123456789abcdef", 4), "oci://localhost:5000/team/plugin@sha256:" + strings.Repeat("0123456789abcdef", 4)},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			files, err := variants.Fixture(forkFixture)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"base/wasmplugin/wasmplugin.yaml", "overlays/dev/kustomization.yaml", "overlays/staging/kustomization.yaml", "overlays/prod/kustomization.yaml"} {
				if !strings.Contains(string(files[f]), fixtureRepo) {
					t.Fatalf("%s does not name %s", f, fixtureRepo)
				}
				files[f] = []byte(strings.ReplaceAll(string(files[f]), fixtureRepo, tt.repo))
			}
			pin := variants.Variant{Name: tt.want, Edits: []variants.Edit{{File: "overlays/dev/kustomization.yaml", Old: "newTag: v0.1.0", New: tt.pin}}}
			if err := pin.Apply(files); err != nil {
				t.Fatal(err)
			}
			tree := treeOf(t, files)
			res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
			if err != nil {
				t.Fatal(err)
			}
			var url string
			for _, r := range res.Resources.Resources() {
				if r.GetKind() == "WasmPlugin" {
					m, _ := r.Map()
					url, _ = m["spec"].(map[string]any)["url"].(string)
				}
			}
			if url != tt.want {
				t.Errorf("rendered url %q, want %q", url, tt.want)
			}
			run, err := RunTree(tree, Options{RootNamespace: "istio-system"})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range run.Findings {
				t.Errorf("finding: %s", f)
			}
		})
	}
}

// TestAfterFluxBootstrap adds what flux bootstrap commits to
// clusters/dev/flux: the fork must still validate cleanly.
func TestAfterFluxBootstrap(t *testing.T) {
	files, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	files["clusters/dev/flux/flux-system/kustomization.yaml"] = []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-sync.yaml\n")
	files["clusters/dev/flux/flux-system/gotk-sync.yaml"] = []byte(`# This manifest was generated by flux. DO NOT EDIT.
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@git.fork.test/platform/edge
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/dev/flux
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`)
	res, err := RunTree(treeOf(t, files), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("finding after bootstrap: %s", f)
	}
}
