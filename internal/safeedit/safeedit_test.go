package safeedit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/variants"
)

// fork copies the corpus's fork fixture to a temporary directory, with
// edits applied.
func fork(t *testing.T, edits ...variants.Edit) string {
	t.Helper()
	files, err := variants.Fixture("../../validate/testdata/fork")
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

// edited returns file of repo with old replaced by new, exactly once.
func edited(t *testing.T, repo, file, old, new string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, file))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), old) != 1 {
		t.Fatalf("%s does not contain %q exactly once", file, old)
	}
	return []byte(strings.Replace(string(data), old, new, 1))
}

const devFile = "overlays/dev/kustomization.yaml"

func TestWritesAnEditThatAddsNoError(t *testing.T) {
	repo := fork(t)
	want := edited(t, repo, devFile, "newTag: v0.1.0", "newTag: v0.2.0")
	if err := Write(repo, map[string][]byte{devFile: want}, Options{RootNamespace: "istio-system"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(repo, devFile)); string(got) != string(want) {
		t.Errorf("the file was not written:\n%s", got)
	}
}

func TestRefusesAnEditThatAddsAnError(t *testing.T) {
	repo := fork(t)
	file := "overlays/staging/kustomization.yaml"
	before, _ := os.ReadFile(filepath.Join(repo, file))
	err := Write(repo, map[string][]byte{file: edited(t, repo, file, "newTag: 1.27.3-alpine", "newTag: latest")}, Options{RootNamespace: "istio-system"})
	var refused *Refused
	if !errors.As(err, &refused) {
		t.Fatalf("Write = %v, want a refusal", err)
	}
	if len(refused.Added) != 1 || refused.Added[0].Code != "IMG001" || strings.Join(refused.Added[0].Targets, ",") != "overlays/staging" || refused.Added[0].File != file {
		t.Errorf("added %v, want one IMG001 in %s for overlays/staging", refused.Added, file)
	}
	if after, _ := os.ReadFile(filepath.Join(repo, file)); string(after) != string(before) {
		t.Error("a refused edit changed the file")
	}
	if entries, _ := os.ReadDir(filepath.Join(repo, "overlays/staging")); len(entries) != 2 {
		t.Errorf("a refused edit left files behind: %v", entries)
	}
}

// TestBrokenOverlayDoesNotBlockAnother: prod is broken already (a bad
// header name); a bump of dev adds nothing and is written.
func TestBrokenOverlayDoesNotBlockAnother(t *testing.T) {
	repo := fork(t, variants.Edit{File: "overlays/prod/wasmplugin.yaml", Old: "name: x-environment", New: "name: x environment"})
	want := edited(t, repo, devFile, "newTag: v0.1.0", "newTag: v0.2.0")
	if err := Write(repo, map[string][]byte{devFile: want}, Options{RootNamespace: "istio-system"}); err != nil {
		t.Fatalf("Write = %v, want the dev edit written despite the broken prod overlay", err)
	}
	if got, _ := os.ReadFile(filepath.Join(repo, devFile)); string(got) != string(want) {
		t.Error("the file was not written")
	}
}

// TestRefusesAnEditThatBreaksTheRender: a target that no longer renders
// is an added error too (RN002), in the clusters that sync it as well.
func TestRefusesAnEditThatBreaksTheRender(t *testing.T) {
	repo := fork(t)
	err := Write(repo, map[string][]byte{devFile: edited(t, repo, devFile, "    newTag: v0.1.0\n", "\tnewTag: v0.1.0\n")}, Options{RootNamespace: "istio-system"})
	var refused *Refused
	if !errors.As(err, &refused) {
		t.Fatalf("Write = %v, want a refusal", err)
	}
	codes := map[string]bool{}
	for _, f := range refused.Added {
		codes[f.Code] = true
	}
	if !codes["RN002"] {
		t.Errorf("added %v, want RN002", refused.Added)
	}
}

func TestAddedComparesWithoutLines(t *testing.T) {
	f := check.Finding{Code: "WP005", Severity: check.Error, File: "a.yaml", Line: 3, Resource: "WasmPlugin b/c", Message: "m", Targets: []string{"overlays/dev"}}
	moved := f
	moved.Line = 9
	wider := f
	wider.Targets = []string{"overlays/dev", "overlays/prod"}
	warn := f
	warn.Severity, warn.Code = check.Warning, "WL004"
	if got := Added([]check.Finding{f}, []check.Finding{moved, warn}); len(got) != 0 {
		t.Errorf("a moved finding and a warning count as added: %v", got)
	}
	got := Added([]check.Finding{f}, []check.Finding{wider})
	if len(got) != 1 || strings.Join(got[0].Targets, ",") != "overlays/prod" {
		t.Errorf("Added = %v, want the finding for overlays/prod only", got)
	}
}
