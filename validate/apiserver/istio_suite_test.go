package apiserver

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

// suite is Istio's CRD validation suite as a repository: one overlay per
// document, so that each document is rendered and judged on its own.
type suite struct {
	tree *render.Tree
	// invalid marks the overlays whose document comes from an *-invalid.yaml file.
	invalid map[string]bool
	// source names each overlay's document: "wasm-invalid.yaml #3 (unset-url)".
	source map[string]string
}

// istioSuite reads pkg/config/validation/testdata/crds of the istio.io/istio
// version go.mod pins, from the module cache. Each document's _err line (the
// error Istio's own test expects) is removed, as Istio's test removes it.
func istioSuite(t *testing.T) suite {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m istio.io/istio: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "pkg", "config", "validation", "testdata", "crds")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("Istio's CRD validation suite: no YAML files in %s (%v)", dir, err)
	}
	s := suite{tree: render.NewTree("istio-crd-suite"), invalid: map[string]bool{}, source: map[string]string{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		for i, doc := range splitDocuments(string(data)) {
			var kept []string
			name := ""
			for _, line := range strings.Split(doc, "\n") {
				if strings.HasPrefix(line, "_err:") {
					continue
				}
				if n, ok := strings.CutPrefix(line, "  name: "); ok && name == "" {
					name = strings.TrimSpace(n)
				}
				kept = append(kept, line)
			}
			body := strings.Join(kept, "\n")
			if !strings.Contains(body, "apiVersion:") {
				continue
			}
			target := path.Join("overlays", strings.TrimSuffix(base, ".yaml")+"-"+itoa(i+1))
			add(t, s.tree, path.Join(target, "doc.yaml"), body)
			add(t, s.tree, path.Join(target, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - doc.yaml\n")
			s.invalid[target] = strings.HasSuffix(base, "-invalid.yaml")
			s.source[target] = base + " #" + itoa(i+1) + " (" + name + ")"
		}
	}
	return s
}

// splitDocuments splits a YAML stream at its "---" lines, as Istio's
// yml.SplitString does.
func splitDocuments(text string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "---") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.String())
}

func add(t *testing.T, tree *render.Tree, rel, data string) {
	t.Helper()
	if err := tree.Add(rel, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// fixtureTree makes each YAML file of dir the only resource of an overlay
// named after it, as validate/check's TestServerRules renders them.
func fixtureTree(t *testing.T, dir string) *render.Tree {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	tree := render.NewTree(dir)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		target := path.Join("overlays", strings.TrimSuffix(name, ".yaml"))
		add(t, tree, path.Join(target, name), string(data))
		add(t, tree, path.Join(target, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - "+name+"\n")
	}
	return tree
}
