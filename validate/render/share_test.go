package render_test

import (
	"testing"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/argocd"
	"meshops.dev/meshops/validate/render/flux"
)

// loadRepository loads the repository this package lives in.
func loadRepository(t *testing.T) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir("../..")
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// shareDev builds the dev overlay as the Argo CD Application of
// clusters/dev/argocd applies it and asks whether the plain Flux
// Kustomization of clusters/dev/flux may take that build.
func shareDev(t *testing.T, tree *render.Tree) bool {
	t.Helper()
	entries, err := render.EntryPoints(tree)
	if err != nil {
		t.Fatal(err)
	}
	var argoEntry, fluxEntry *render.EntryPoint
	for _, e := range entries {
		if e.Cluster != "clusters/dev" || e.Path != "overlays/dev" {
			continue
		}
		switch e.Engine {
		case render.ArgoCD:
			argoEntry = e
		case render.Flux:
			fluxEntry = e
		}
	}
	if argoEntry == nil || fluxEntry == nil {
		t.Fatal("clusters/dev has no Argo CD Application and Flux Kustomization of overlays/dev")
	}
	argoTarget, err := argocd.Prepare(tree, argoEntry, 0)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := flux.NewSources(tree)
	if err != nil {
		t.Fatal(err)
	}
	defer sources.Close()
	fluxTarget, err := sources.Prepare(fluxEntry, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := argocd.Build(tree, argoTarget)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := res.Share(fluxTarget)
	return ok
}

// The repository holds files source-controller leaves out of the artifact
// (.github/, the README's images, ...) that no kustomization reads: Flux's
// build of overlays/dev is Argo CD's, and is shared.
func TestFluxSharesArgoBuildDespiteIgnoredFiles(t *testing.T) {
	tree := loadRepository(t)
	if !tree.Exists(".github") {
		t.Skip("needs the repository's .github folder, which source-controller drops from the artifact")
	}
	if !shareDev(t, tree) {
		t.Error("the Flux Kustomization of overlays/dev does not share the Argo CD build, though the files its artifact drops are not read by it")
	}
}

// A .sourceignore that drops a file the overlay reads makes Flux's build
// differ (it fails): it must not be shared.
func TestFluxDoesNotShareWhenArtifactDropsAReadFile(t *testing.T) {
	tree := loadRepository(t)
	if err := tree.Add(".sourceignore", []byte("overlays/dev/wasmplugin.yaml\n")); err != nil {
		t.Fatal(err)
	}
	if shareDev(t, tree) {
		t.Error("the Flux build is shared although its artifact lacks overlays/dev/wasmplugin.yaml, which the Argo CD build read")
	}
}
