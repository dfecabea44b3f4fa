package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/helm"
)

// TestShippedIstioIsTheModules: the Istio the shipped repository installs
// (Istio's charts, from the Flux HelmReleases and the Argo CD Applications)
// is the release whose istiod code the validator runs, the pinned module's
// VERSION. Move both in one change (README, "Which Istio").
func TestShippedIstioIsTheModules(t *testing.T) {
	tree, err := render.LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTree(tree, Options{Mesh: MeshOff, Checks: []*check.Check{}})
	if err != nil {
		t.Fatal(err)
	}
	istio := 0
	for _, scope := range res.HelmScopes() {
		for _, o := range res.HelmObjects(scope) {
			if o.Kind == "Deployment" && o.Name == "istiod" {
				istio++
			}
		}
	}
	if istio == 0 {
		t.Fatal("no istiod rendered from the repository's Helm releases")
	}
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Code, "HLM") {
			t.Errorf("%s: the repository must install Istio %s.x, the module's VERSION", f, helm.IstioVersion())
		}
	}
}

// TestHelmObjectsByScope: each cluster scope gets the rendered objects of
// the releases its entry points install: the Flux scopes the HelmReleases
// of infrastructure/istio, the Argo CD scopes their own Applications'.
func TestHelmObjectsByScope(t *testing.T) {
	tree, err := render.LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := render.HelmEntryPoints(tree)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTree(tree, Options{Mesh: MeshOff, Checks: []*check.Check{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		scope := e.File[:strings.LastIndex(e.File, "/")]
		// A release identical to another (the Argo CD Applications name
		// their releases as the Flux HelmReleases do) shares its render:
		// look for the release's own target, and for objects in the scope.
		found := false
		for _, ix := range res.helm[scope] {
			if ix.Target.ID() == e.ID() && len(ix.Objects) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("scope %s: no object rendered from %s", scope, e.ID())
		}
	}
	// Argo CD's gateway Application sets no releaseName: the release is
	// named after the Application, and so are the gateway's pods' labels.
	gateways := 0
	for _, scope := range res.HelmScopes() {
		for _, o := range res.HelmObjects(scope) {
			if o.Kind != "Deployment" || !strings.Contains(o.Name, "gateway") {
				continue
			}
			gateways++
			tpl, _ := o.Spec()["template"].(map[string]any)
			meta, _ := tpl["metadata"].(map[string]any)
			labels, _ := meta["labels"].(map[string]any)
			if want := strings.TrimPrefix(o.Name, "istio-"); labels["istio"] != want {
				t.Errorf("%s %s: pod label istio=%v, want %q (the release name without istio-)", scope, o, labels["istio"], want)
			}
		}
	}
	if gateways == 0 {
		t.Error("no gateway Deployment rendered")
	}
	if len(res.HelmScopes()) == 0 {
		t.Fatal("no scope installs a Helm release")
	}
}

// TestPlatformVersionIsAFinding: a platform.yaml naming another Istio is
// one finding at its line, and the run goes on.
func TestPlatformVersionIsAFinding(t *testing.T) {
	tree := meshFixture(t, "")
	if err := tree.Add("platform.yaml", []byte("istio:\n  version: \"1.2\"\n")); err != nil {
		t.Fatal(err)
	}
	res, err := RunTree(tree, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		if f.Code == check.PlatformIstioVersion.Code {
			got = append(got, fmt.Sprintf("%s:%d", f.File, f.Line))
			if !strings.Contains(f.Message, `"1.2"`) || !strings.Contains(f.Message, helm.IstioVersion()) {
				t.Errorf("message %q names neither release", f.Message)
			}
		}
	}
	if strings.Join(got, ",") != "platform.yaml:2" {
		t.Errorf("HLM005 at %v, want platform.yaml:2", got)
	}
}
