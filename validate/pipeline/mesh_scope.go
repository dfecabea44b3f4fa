package pipeline

import (
	"bytes"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"meshops.dev/meshops/validate/render"
)

// Which targets istiod's code (validate/mesh) is asked about.
const (
	// MeshSynced asks about the overlays a cluster entry point syncs (every
	// target when clusters/ names none): pilot costs ~0.2 s per target, and
	// an overlay no cluster syncs never reaches an istiod (GO004 warns).
	MeshSynced = "synced"
	// MeshAll asks about every target.
	MeshAll = "all"
	// MeshOff never asks; WP001/WP002 use their own rules.
	MeshOff = "off"
)

// syncedDirs returns the directories the Flux Kustomizations (spec.path) and
// Argo CD Applications (spec.source.path, spec.sources[].path) under
// clusters/ point at, read straight from the files: the mesh scope is known
// before any target renders. A file that does not parse names nothing; GO001
// and GO002 report it.
func syncedDirs(tree *render.Tree) map[string]bool {
	out := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		names, err := tree.ReadDir(dir)
		if err != nil {
			return
		}
		for _, n := range names {
			rel := dir + "/" + n
			if tree.IsDir(rel) {
				walk(rel)
				continue
			}
			if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") {
				continue
			}
			data, err := tree.ReadFile(rel)
			if err != nil {
				continue
			}
			dec := yaml.NewDecoder(bytes.NewReader(data))
			for {
				var doc struct {
					Kind string `yaml:"kind"`
					Spec struct {
						Path   string `yaml:"path"`
						Source struct {
							Path string `yaml:"path"`
						} `yaml:"source"`
						Sources []struct {
							Path string `yaml:"path"`
						} `yaml:"sources"`
					} `yaml:"spec"`
				}
				if dec.Decode(&doc) != nil {
					break
				}
				paths := []string{doc.Spec.Path, doc.Spec.Source.Path}
				for _, s := range doc.Spec.Sources {
					paths = append(paths, s.Path)
				}
				if doc.Kind != "Kustomization" && doc.Kind != "Application" {
					continue
				}
				for _, p := range paths {
					if p != "" {
						out[path.Clean(strings.TrimPrefix(p, "./"))] = true
					}
				}
			}
		}
	}
	if tree.IsDir("clusters") {
		walk("clusters")
	}
	return out
}
