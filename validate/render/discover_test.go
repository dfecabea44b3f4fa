package render

import (
	"strings"
	"testing"
)

const repoRoot = "../.."

func loadRepo(t *testing.T) (*Tree, []Target) {
	t.Helper()
	tree, err := LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	return tree, targets
}

func TestDiscoverRepository(t *testing.T) {
	_, targets := loadRepo(t)
	var got []string
	for _, tg := range targets {
		s := string(tg.Kind) + ":" + tg.Dir
		if tg.Generated {
			s += " (generated)"
		}
		got = append(got, s)
	}
	want := []string{
		"overlay:overlays/dev", "overlay:overlays/prod", "overlay:overlays/staging",
		"cluster:clusters/dev/argocd", "cluster:clusters/dev/flux (generated)",
		"cluster:clusters/prod/argocd", "cluster:clusters/prod/flux (generated)",
		"cluster:clusters/staging/argocd", "cluster:clusters/staging/flux (generated)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Discover =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEmptyOverlays(t *testing.T) {
	tree, err := LoadDir("testdata/empty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Discover(tree); err == nil || !strings.Contains(err.Error(), "no overlays/<env>/ with a kustomization file, and no Flux Kustomization or Argo CD Application") {
		t.Errorf("Discover = %v, want nothing to validate", err)
	}
}
