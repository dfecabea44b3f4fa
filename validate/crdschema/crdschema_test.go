package crdschema

import (
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestLazyDecoding(t *testing.T) {
	data, err := os.ReadFile("testdata/widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(data)
	if err != nil {
		t.Fatal(err)
	}
	widget := schema.GroupKind{Group: "fixture.test", Kind: "Widget"}
	if len(v.pending) != 1 || len(v.pending[widget]) != 1 {
		t.Fatalf("pending = %v, want only the block-style Widget CRD", v.pending)
	}
	// The flow-style document was decoded at once.
	if !v.Serves(schema.GroupVersionKind{Group: "fixture.test", Version: "v1alpha1", Kind: "Gadget"}) {
		t.Error("Gadget v1alpha1 not served")
	}
	if !v.Serves(schema.GroupVersionKind{Group: "fixture.test", Version: "v1", Kind: "Widget"}) {
		t.Error("Widget v1 not served")
	}
	if v.Serves(schema.GroupVersionKind{Group: "fixture.test", Version: "v2", Kind: "Widget"}) {
		t.Error("Widget v2 served")
	}
	ok := map[string]any{"apiVersion": "fixture.test/v1", "kind": "Widget", "metadata": map[string]any{"name": "a"}, "spec": map[string]any{"size": 2}}
	if err := v.Validate(ok); err != nil {
		t.Errorf("valid Widget: %v", err)
	}
	bad := map[string]any{"apiVersion": "fixture.test/v1", "kind": "Widget", "metadata": map[string]any{"name": "a"}, "spec": map[string]any{"size": 0}}
	if err := v.Validate(bad); err == nil || !strings.Contains(err.Error(), "spec.size") {
		t.Errorf("Widget with size 0: got %v, want an error on spec.size", err)
	}
}

func TestScanCRD(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		want      schema.GroupKind
		ok        bool
	}{
		{"block", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: a.test\n  names:\n    kind: A\n    plural: as\n", schema.GroupKind{Group: "a.test", Kind: "A"}, true},
		{"quoted", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: \"a.test\"\n  names:\n    kind: 'A'\n", schema.GroupKind{Group: "a.test", Kind: "A"}, true},
		// kind under another key of spec is not the CRD's kind.
		{"kind elsewhere", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: a.test\n  conversion:\n    kind: B\n", schema.GroupKind{Group: "a.test"}, false},
		{"not a CRD", "apiVersion: v1\nkind: ConfigMap\nspec:\n  group: a.test\n  names:\n    kind: A\n", schema.GroupKind{Group: "a.test", Kind: "A"}, false},
		{"json", `{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "spec": {"group": "a.test", "names": {"kind": "A"}}}`, schema.GroupKind{Group: "a.test", Kind: "A"}, true},
		{"json, not a CRD", `{"apiVersion": "v1", "kind": "ConfigMap", "spec": {"group": "a.test", "names": {"kind": "A"}}}`, schema.GroupKind{Group: "a.test", Kind: "A"}, false},
		{"two objects", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: a.test\n  names:\n    kind: A\n...\napiVersion: apiextensions.k8s.io/v1\n", schema.GroupKind{Group: "a.test", Kind: "A"}, false},
	} {
		gk, ok := scanCRD([]byte(tt.doc))
		if ok != tt.ok || (ok && gk != tt.want) {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, gk, ok, tt.want, tt.ok)
		}
	}
}

func TestSplitDocuments(t *testing.T) {
	docs := splitDocuments([]byte("---\na: 1\n---\n\n--- \nb: 2\n---"))
	if len(docs) != 2 || string(docs[0]) != "a: 1\n" || string(docs[1]) != "b: 2\n" {
		t.Errorf("got %q", docs)
	}
}
