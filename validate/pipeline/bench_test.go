package pipeline

import (
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
)

// BenchmarkShippedRepository is make validate on the repository as shipped,
// warm, in process: load, render the 9 targets, ask istiod about the 3
// synced overlays, run every check.
func BenchmarkShippedRepository(b *testing.B) {
	for _, scope := range []string{MeshSynced, MeshOff} {
		b.Run("mesh="+scope, func(b *testing.B) {
			for b.Loop() {
				tree, err := render.LoadDir(repoRoot)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := RunTree(tree, Options{Mesh: scope}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The same without Istio's analyzers (check.All() only): what they add.
	b.Run("mesh=synced,analyzers=off", func(b *testing.B) {
		for b.Loop() {
			tree, err := render.LoadDir(repoRoot)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := RunTree(tree, Options{Mesh: MeshSynced, Checks: check.All()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
