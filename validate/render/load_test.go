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

func TestSymlinkEscapingRepository(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	dev := filepath.Join(repo, "overlays", "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "kustomization.yaml"), []byte("resources:\n- secret.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dev, "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(repo)
	if err == nil || !strings.Contains(err.Error(), "overlays/dev/secret.yaml: symbolic link points outside the repository") {
		t.Errorf("LoadDir = %v, want the escaping link named", err)
	}
}
