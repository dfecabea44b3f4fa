package render

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// TestFileNamesKustomizeAccepts: kustomize build reads a checkout on disk,
// where a file or folder may be named with spaces, non-ASCII letters or
// other characters Kustomize's in-memory file system refuses. The validator
// renders them, from the work tree and from a git revision, and names them
// as they are.
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
	trees := map[string]*Tree{}
	tree, err := LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	trees["work tree"] = tree
	if out, err := exec.Command("sh", "-c", "cd '"+root+"' && git init -q && git add -A && git -c user.name=t -c user.email=t@t.test commit -qm x").CombinedOutput(); err != nil {
		t.Logf("no git revision case: this part needs git: %v: %s", err, out)
	} else if trees["revision HEAD"], err = LoadGit(root, "HEAD"); err != nil {
		t.Fatal(err)
	}
	for name, tree := range trees {
		var listed []string
		for _, f := range tree.files() {
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
		tg := Target{Kind: Overlay, Dir: "overlays/dev"}
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
// name, not its encoded form.
func TestFileNameInErrors(t *testing.T) {
	tree := NewTree("fixture")
	if err := tree.Add("overlays/dev/kustomization.yaml", []byte("resources:\n- \"missing file.yaml\"\n- \"web app\"\n")); err != nil {
		t.Fatal(err)
	}
	if err := tree.Add("overlays/dev/web app/kustomization.yaml", []byte("resources: [{]\n")); err != nil {
		t.Fatal(err)
	}
	tg := Target{Kind: Overlay, Dir: "overlays/dev"}
	_, err := Prepare(tree, tg)
	if err == nil {
		_, err = Build(tree, tg)
	}
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "missing file.yaml") || strings.Contains(err.Error(), nameMarker) {
		t.Errorf("error %q does not quote the file name as written", err)
	}
}

func TestNameEncodingRoundTrips(t *testing.T) {
	for _, e := range []string{"a", "web app", "übersicht", "::odd", "::", "a:b", "x+y", "..", ".", "", "ok-name_1.yaml"} {
		enc := encodeElement(e)
		if got := decodeElement(enc); got != e {
			t.Errorf("%q: encoded %q decodes to %q", e, enc, got)
		}
		if enc != "" && enc != "." && enc != ".." && !legalElement.MatchString(enc) {
			t.Errorf("%q: encoded %q is not a legal in-memory name", e, enc)
		}
	}
}
