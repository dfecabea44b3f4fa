package pipeline

import (
	"sort"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/variants"
)

// withConfigMap returns the fork fixture with a ConfigMap of one data key of
// n bytes added to base/blog.
func withConfigMap(t testing.TB, n int) map[string][]byte {
	t.Helper()
	files, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	files["base/blog/big.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: blog\ndata:\n  blob: " + strings.Repeat("x", n) + "\n")
	if err := (variants.Variant{Name: "big", Edits: []variants.Edit{{File: "base/blog/kustomization.yaml", Old: "  - service.yaml\n", New: "  - service.yaml\n  - big.yaml\n"}}}).Apply(files); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestSizeLimits: data over 1 MiB is K8S004; an object over 1.5 MiB is also
// K8S005; 1 MiB exactly passes. Each is one finding for the three overlays.
func TestSizeLimits(t *testing.T) {
	tests := []struct {
		n    int
		want []string
	}{
		{1 << 20, nil},
		{1<<20 + 1, []string{"K8S004"}},
		{2 << 20, []string{"K8S004", "K8S005"}},
	}
	for _, tt := range tests {
		res, err := RunTree(treeOf(t, withConfigMap(t, tt.n)), Options{RootNamespace: "istio-system"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Code)
			if f.File != "base/blog/big.yaml" || f.Resource != "ConfigMap blog/big" || strings.Join(f.Targets, ",") != "overlays/dev,overlays/prod,overlays/staging" {
				t.Errorf("%d bytes: %s, want it on base/blog/big.yaml, ConfigMap blog/big, in the three overlays", tt.n, f)
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%d bytes: findings %v, want %v", tt.n, got, tt.want)
		}
	}
}

// BenchmarkLargeResource validates the fork with a 5 MiB ConfigMap in its
// base (rendered by the three overlays).
func BenchmarkLargeResource(b *testing.B) {
	files := withConfigMap(b, 5<<20)
	for i := 0; i < b.N; i++ {
		if _, err := RunTree(treeOf(b, files), Options{RootNamespace: "istio-system"}); err != nil {
			b.Fatal(err)
		}
	}
}
