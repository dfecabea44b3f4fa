package pipeline

import (
	"strings"
	"testing"

	"meshops.dev/meshops/validate/variants"
)

// TestPatchSetsTheField: when an overlay's strategic-merge patch sets the
// offending field, the finding names the patch and the field's line in it,
// not the base that declares the resource.
func TestPatchSetsTheField(t *testing.T) {
	tests := []struct {
		name, env, patch string
		code             string
		line             int
	}{
		{"probe port", "prod", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: blog
  namespace: blog
spec:
  template:
    spec:
      containers:
        - name: nginx
          readinessProbe:
            httpGet:
              path: /
              port: web
`, "WL005", 14}, // the probe's port:
		{"sidecar opt-out", "staging", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: blog
  namespace: blog
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "false"
`, "WP002", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := variants.Fixture(forkFixture)
			if err != nil {
				t.Fatal(err)
			}
			patch := "overlays/" + tt.env + "/deployment.yaml"
			files[patch] = []byte(tt.patch)
			add := variants.Variant{Name: tt.name, Edits: []variants.Edit{{File: "overlays/" + tt.env + "/kustomization.yaml", Old: "  - path: wasmplugin.yaml\n", New: "  - path: wasmplugin.yaml\n  - path: deployment.yaml\n"}}}
			if err := add.Apply(files); err != nil {
				t.Fatal(err)
			}
			res, err := RunTree(treeOf(t, files), Options{RootNamespace: "istio-system"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 1 {
				t.Fatalf("got %d findings, want one %s: %v", len(res.Findings), tt.code, res.Findings)
			}
			f := res.Findings[0]
			if f.Code != tt.code || f.File != patch || f.Line != tt.line || strings.Join(f.Targets, ",") != "overlays/"+tt.env {
				t.Errorf("got %s, want %s at %s:%d in overlays/%s", f, tt.code, patch, tt.line, tt.env)
			}
		})
	}
}
