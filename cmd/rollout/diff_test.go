package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffShowsAClusterRepointedOnMain: on main, after a commit that points
// staging's Flux Kustomization at the prod overlay, make diff's default base
// (the previous commit) shows the Kustomization's field and what the
// cluster now runs; the Argo CD staging cluster is untouched.
func TestDiffShowsAClusterRepointedOnMain(t *testing.T) {
	repo := copyRepo(t)
	file := filepath.Join(repo, "clusters/staging/flux/blog.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "path: ./overlays/staging", "path: ./overlays/prod", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "staging runs prod")
	code, out, errs := rollout(t, "diff", "--repo", repo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Kustomization flux-system/blog: spec.path ./overlays/staging -> ./overlays/prod\n",
		"(blog -> overlays/prod) Deployment blog/blog: added\n",
		"(blog -> overlays/staging) Deployment blog/blog: removed\n",
		"clusters/staging/argocd: no changes\n",
		"clusters/prod/flux: no changes\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}
