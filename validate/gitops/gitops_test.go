package gitops

import (
	"bytes"
	"os"
	"testing"
)

func TestEmbeddedCRDsMatchPinnedReleases(t *testing.T) {
	for _, s := range Sources {
		path, err := Upstream(".", s)
		if err != nil {
			t.Skipf("the pinned %s release is not reachable through the Go module proxy: %v", s.Module, err)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want, err = s.Transform(want); err != nil {
			t.Fatal(err)
		}
		got, err := Embedded(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("crds/%s differs from %s: run go generate ./validate/gitops", s.File, path)
		}
	}
}

func TestValidatesEntryPoints(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		obj  map[string]any
		want string // "" for valid
	}{
		{"flux kustomization", map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
			"metadata": map[string]any{"name": "blog", "namespace": "flux-system"},
			"spec":     map[string]any{"interval": "10m", "prune": true, "path": "./overlays/dev", "sourceRef": map[string]any{"kind": "GitRepository", "name": "meshops"}}}, ""},
		{"flux kustomization without prune", map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
			"metadata": map[string]any{"name": "blog", "namespace": "flux-system"},
			"spec":     map[string]any{"interval": "10m", "sourceRef": map[string]any{"kind": "GitRepository", "name": "meshops"}}}, "spec.prune: Required value"},
		{"flux bad source kind", map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
			"metadata": map[string]any{"name": "blog", "namespace": "flux-system"},
			"spec":     map[string]any{"interval": "10m", "prune": true, "sourceRef": map[string]any{"kind": "GitRepo", "name": "meshops"}}}, "spec.sourceRef.kind: Unsupported value"},
		{"argo application typo", map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": "blog", "namespace": "argocd"},
			"spec": map[string]any{"project": "default", "destination": map[string]any{"server": "https://kubernetes.default.svc"},
				"source":     map[string]any{"repoURL": "https://example.com/r.git", "path": "overlays/dev"},
				"syncPolicy": map[string]any{"automated": map[string]any{"prune": true, "selfheal": true}}}}, "spec.syncPolicy.automated.selfheal"},
	}
	for _, tt := range tests {
		err := v.Validate(tt.obj)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want))):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestEmbeddedCRDsDecode decodes every CRD of the bundles: the validator
// decodes them lazily, one kind when a repository first uses it.
func TestEmbeddedCRDsDecode(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DecodeAll(); err != nil {
		t.Fatal(err)
	}
}
