package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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

// TestLoadDirLoadsWhatEnginesLoad: folders named bin, node_modules or
// testdata and files over 4 MiB are configuration like any other; only what
// git ignores is left out.
func TestLoadDirLoadsWhatEnginesLoad(t *testing.T) {
	big := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: " + strings.Repeat("x", 5<<20) + "\n"
	files := map[string]string{
		"overlays/dev/kustomization.yaml":         "resources:\n- ../../bin/cm.yaml\n- ../../testdata/cm.yaml\n- ../../node_modules/cm.yaml\n- big.yaml\n",
		"overlays/dev/big.yaml":                   big,
		"bin/cm.yaml":                             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"testdata/cm.yaml":                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
		"node_modules/cm.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
		"overlays/dev/ignored/kustomization.yaml": "resources: []\n",
		".gitignore":                              "/overlays/dev/ignored/\n",
	}
	for _, useGit := range []bool{false, true} {
		root := t.TempDir()
		write(t, root, files)
		if useGit {
			if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
				t.Skipf("this test needs git: %v: %s", err, out)
			}
		}
		tree, err := LoadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"bin/cm.yaml", "testdata/cm.yaml", "node_modules/cm.yaml", "overlays/dev/big.yaml"} {
			if !tree.Exists(f) {
				t.Errorf("git %v: %s was not loaded", useGit, f)
			}
		}
		if got := tree.Exists("overlays/dev/ignored/kustomization.yaml"); got != !useGit {
			t.Errorf("git %v: the git-ignored file loaded = %v, want %v", useGit, got, !useGit)
		}
		data, _ := tree.ReadFile("overlays/dev/big.yaml")
		if !bytes.Equal(data, []byte(big)) {
			t.Errorf("git %v: big.yaml has %d bytes, want %d", useGit, len(data), len(big))
		}
	}
}

// TestOverlayFolderWithoutKustomization: overlays/_shared holds snippets,
// not an environment; it is no target and no error.
func TestOverlayFolderWithoutKustomization(t *testing.T) {
	tree := NewTree("test")
	_ = tree.Add("overlays/dev/kustomization.yaml", []byte("resources: []\n"))
	_ = tree.Add("overlays/_shared/configmap.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"))
	targets, err := Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || targets[0].Dir != "overlays/dev" {
		t.Errorf("Discover = %+v, want overlays/dev only", targets)
	}
}

// TestNoInternalPathInErrors: the in-memory wrapper's relative path to the
// target never reaches a message.
func TestNoInternalPathInErrors(t *testing.T) {
	for _, doc := range []string{"", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: [x]\n"} {
		tree := NewTree("test")
		_ = tree.Add("overlays/qa/kustomization.yaml", []byte(doc))
		_, err := Render(tree, Target{Kind: Overlay, Dir: "overlays/qa"})
		if err == nil {
			t.Fatalf("%q rendered without error", doc)
		}
		if strings.Contains(err.Error(), "../") || strings.Contains(err.Error(), wrapperDir) || strings.Contains(err.Error(), mountPoint) {
			t.Errorf("error leaks an internal path: %v", err)
		}
		if !strings.Contains(err.Error(), "overlays/qa") {
			t.Errorf("error does not name the overlay: %v", err)
		}
	}
}

// TestPatchErrorsNameFileAndLine: a patch Kustomize cannot parse is refused
// first, naming the patch file (or the kustomization's line, for an inline
// patch), the line and the cause.
func TestPatchErrorsNameFileAndLine(t *testing.T) {
	const base = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"
	tests := []struct {
		name, kustomization, patch string
		want                       string
	}{
		{"tab", "resources: [cm.yaml]\npatches:\n  - path: patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n\ta: c\n",
			"overlays/dev/patch.yaml:6: patch (patches[0] of overlays/dev/kustomization.yaml) is not valid YAML: found character that cannot start any token"},
		{"duplicate key", "resources: [cm.yaml]\npatches:\n  - path: patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: c\n  a: d\n",
			`overlays/dev/patch.yaml:7: patch (patches[0] of overlays/dev/kustomization.yaml) is not valid YAML: mapping key "a" already defined at line 6`},
		{"not utf-8", "resources: [cm.yaml]\npatchesStrategicMerge:\n  - patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \xff\n",
			"overlays/dev/patch.yaml:6: patch (patchesStrategicMerge[0] of overlays/dev/kustomization.yaml) is not valid YAML: byte 0xff is not UTF-8"},
		{"inline", "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |-\n      - op: add\n        path: /data/x\n       value: y\n", "",
			"overlays/dev/kustomization.yaml:6: patches[0]: inline patch is not valid YAML: did not find expected '-' indicator"}, // go-yaml names the line before the bad indent
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := NewTree("test")
			_ = tree.Add("overlays/dev/kustomization.yaml", []byte(tt.kustomization))
			_ = tree.Add("overlays/dev/cm.yaml", []byte(base))
			if tt.patch != "" {
				_ = tree.Add("overlays/dev/patch.yaml", []byte(tt.patch))
			}
			_, err := Render(tree, Target{Kind: Overlay, Dir: "overlays/dev"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant it to contain %s", err, tt.want)
			}
		})
	}
}
