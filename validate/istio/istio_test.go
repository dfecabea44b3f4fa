package istio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	"meshops.dev/meshops/validate/crdschema"
)

func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("the source of %s (pinned in go.mod) is not in the module cache: run go mod download", module)
	}
	return strings.TrimSpace(string(out))
}

func TestEmbeddedCRDsMatchPinnedModule(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(moduleDir(t, "istio.io/api"), "kubernetes", "customresourcedefinitions.gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(CRDs, want) {
		t.Error("crds.gen.yaml differs from the istio.io/api version in go.mod: run go generate ./validate/istio")
	}
}

func documents(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := kubeyaml.NewYAMLOrJSONDecoder(f, 1<<20)
	var out []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// TestIstioValidationSuite runs Istio's own CRD validation corpus: every
// invalid document must be rejected by the schema or the webhook, and no
// valid one may be.
func TestIstioValidationSuite(t *testing.T) {
	dir := filepath.Join(moduleDir(t, "istio.io/istio"), "pkg", "config", "validation", "testdata", "crds")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test documents in %s", dir)
	}
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var valid, invalid, caught int
	for _, file := range files {
		wantValid := strings.HasSuffix(file, "-valid.yaml")
		for _, doc := range documents(t, file) {
			meta, _ := doc["metadata"].(map[string]any)
			name := filepath.Base(file) + "/" + doc["kind"].(string) + "/" + meta["name"].(string)
			schemaErr := v.Schema(doc)
			_, hookErr := v.Webhook(doc)
			if wantValid {
				valid++
				if schemaErr != nil || hookErr != nil {
					t.Errorf("%s: valid document rejected: schema: %v; webhook: %v", name, schemaErr, hookErr)
				}
				continue
			}
			invalid++
			if schemaErr == nil && hookErr == nil {
				t.Errorf("%s: invalid document accepted", name)
				continue
			}
			caught++
		}
	}
	t.Logf("Istio's suite: %d/%d invalid documents rejected, %d valid documents accepted", caught, invalid, valid)
}

// TestEmbeddedCRDsDecode decodes every CRD of Istio's bundle: the validator
// decodes them lazily, one kind when a repository first uses it.
func TestEmbeddedCRDsDecode(t *testing.T) {
	v, err := crdschema.New(CRDs)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DecodeAll(); err != nil {
		t.Fatal(err)
	}
}
