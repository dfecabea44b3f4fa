package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/variants"
)

// forkRepo writes the corpus's fork fixture, with edits applied, to a
// temporary directory.
func forkRepo(t *testing.T, edits ...variants.Edit) string {
	t.Helper()
	files, err := variants.Fixture(filepath.Join("..", "..", "validate", "testdata", "fork"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (variants.Variant{Name: t.Name(), Edits: edits}).Apply(files); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := variants.WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBumpBesideABrokenBase: a stray "-" in the base VirtualService's route
// (route: [null], which once panicked the checks) breaks every overlay
// already; a bump of dev adds no error, so it is written, and the message
// blames nothing it did not do.
func TestBumpBesideABrokenBase(t *testing.T) {
	repo := forkRepo(t, variants.Edit{File: "base/ingress/virtualservice.yaml", Old: "      route:\n        - destination:\n", New: "      route:\n        -\n        - destination:\n"})
	code, stdout, stderr := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", "nginx-unprivileged", "--tag", "1.27.4-alpine")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(repo, "overlays/dev/kustomization.yaml"))
	if !strings.Contains(string(data), "newTag: 1.27.4-alpine") {
		t.Errorf("the bump was not written:\n%s", data)
	}
}

// TestBumpThatBreaksIsNotWritten: a digest the WasmPlugin's sha256
// contradicts adds WP008 to dev; the file stays as it was.
func TestBumpThatBreaksIsNotWritten(t *testing.T) {
	repo := forkRepo(t, variants.Edit{File: "overlays/dev/wasmplugin.yaml", Old: "spec:\n", New: "spec:\n  sha256: " + strings.Repeat("b", 64) + "\n"})
	file := filepath.Join(repo, "overlays/dev/kustomization.yaml")
	before, _ := os.ReadFile(file)
	code, stdout, stderr := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", "edge-headers", "--digest", "sha256:"+strings.Repeat("a", 64))
	if code != 1 || !strings.Contains(stderr, "WP008") || !strings.Contains(stderr, "left as it was") {
		t.Errorf("exit %d, want 1 naming WP008:\n%s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("a refused bump changed the file")
	}
}
