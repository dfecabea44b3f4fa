package kustomize

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFileNamesKustomizeAccepts: kustomize build reads a checkout on disk,
// where a file or folder may be named with spaces, non-ASCII letters or
// other characters Kustomize's in-memory file system refuses. The validator
// (the tree's name encoding, render/namefs.go) renders them, from the work
// tree and from a git revision, and names them as they are.
func TestFileNamesKustomizeAccepts(t *testing.T) {
	files := map[string]string{
		"overlays/dev/kustomization.yaml":      "resources:\n- \"../../base/web app\"\n- übersicht.yaml\n- \"::odd.yaml\"\npatches:\n- path: \"patches/scale up+1.yaml\"\n",
		"base/web app/kustomization.yaml":      "resources:\n- \"config map.yaml\"\n",
		"base/web app/config map.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n",
		"overlays/dev/übersicht.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: overview\n",
		"overlays/dev/::odd.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\n",
		"overlays/dev/patches/scale up+1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"2\"\n",
	}
	want := map[string]string{
		"web":      "base/web app/config map.yaml",
		"overview": "overlays/dev/übersicht.yaml",
		"odd":      "overlays/dev/::odd.yaml",
	}
	root := t.TempDir()
	write(t, root, files)
	trees := map[string]*render.Tree{}
	tree, err := render.LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	trees["work tree"] = tree
	if out, err := exec.Command("sh", "-c", "cd '"+root+"' && git init -q && git add -A && git -c user.name=t -c user.email=t@t.test commit -qm x").CombinedOutput(); err != nil {
		t.Logf("no git revision case: this part needs git: %v: %s", err, out)
	} else if trees["revision HEAD"], err = render.LoadGit(root, "HEAD"); err != nil {
		t.Fatal(err)
	}
	for name, tree := range trees {
		var listed []string
		for _, f := range tree.FilesUnder(".") {
			listed = append(listed, f)
		}
		var wantFiles []string
		for f := range files {
			wantFiles = append(wantFiles, f)
		}
		sort.Strings(wantFiles)
		if strings.Join(listed, "\n") != strings.Join(wantFiles, "\n") {
			t.Errorf("%s: files\n%s\nwant\n%s", name, strings.Join(listed, "\n"), strings.Join(wantFiles, "\n"))
		}
		tg := render.Target{Kind: render.Overlay, Dir: "overlays/dev"}
		if _, err := Prepare(tree, tg); err != nil {
			t.Fatalf("%s: prepare: %v", name, err)
		}
		res, err := Build(tree, tg)
		if err != nil {
			t.Fatalf("%s: build: %v", name, err)
		}
		got := map[string]string{}
		for _, r := range res.Resources.Resources() {
			got[r.GetName()] = res.Source(r)
			if r.GetName() == "web" {
				if v := r.GetDataMap()["a"]; v != "2" {
					t.Errorf("%s: the patch in a file named with a space and a plus was not applied: a = %q", name, v)
				}
			}
		}
		for n, f := range want {
			if got[n] != f {
				t.Errorf("%s: ConfigMap %s comes from %q, want %q", name, n, got[n], f)
			}
		}
	}
}

// TestFileNameInErrors: an error about a file with such a name quotes the
// name, not its encoded form (render/namefs.go's, behind "::").
func TestFileNameInErrors(t *testing.T) {
	tree := render.NewTree("fixture")
	if err := tree.Add("overlays/dev/kustomization.yaml", []byte("resources:\n- \"missing file.yaml\"\n- \"web app\"\n")); err != nil {
		t.Fatal(err)
	}
	if err := tree.Add("overlays/dev/web app/kustomization.yaml", []byte("resources: [{]\n")); err != nil {
		t.Fatal(err)
	}
	tg := render.Target{Kind: render.Overlay, Dir: "overlays/dev"}
	_, err := Prepare(tree, tg)
	if err == nil {
		_, err = Build(tree, tg)
	}
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "missing file.yaml") || strings.Contains(err.Error(), "::") {
		t.Errorf("error %q does not quote the file name as written", err)
	}
}
