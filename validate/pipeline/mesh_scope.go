package pipeline

import (
	"meshops.dev/meshops/validate/render"
)

// Which targets istiod's code (validate/mesh) is asked about.
const (
	// MeshSynced asks about the overlays a cluster entry point syncs (every
	// target when no entry point names one): pilot costs ~0.2 s per target, and
	// an overlay no cluster syncs never reaches an istiod (GO004 warns).
	MeshSynced = "synced"
	// MeshAll asks about every target.
	MeshAll = "all"
	// MeshOff never asks; WP001/WP002 use their own rules.
	MeshOff = "off"
)

// syncedDirs returns the directories the entry points apply (a Flux
// Kustomization's spec.path, an Argo CD Application's spec.source.path or
// spec.sources[].path), wherever they live (render.EntryPoints): the mesh
// scope is known before any target renders. A file that does not parse
// names nothing; GO001 and GO002 report it.
func syncedDirs(entries []*render.EntryPoint) map[string]bool {
	out := map[string]bool{}
	for _, e := range entries {
		if e.Path != "" {
			out[e.Path] = true
		}
	}
	return out
}
