package renderdiff

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/argocd"
	"meshops.dev/meshops/validate/render/engine"
	"meshops.dev/meshops/validate/render/flux"
	"meshops.dev/meshops/validate/render/kustomize"
)

// renderClusters renders what each cluster applies, keyed by its folder
// under clusters/ ("clusters/dev/flux"): the folder's own objects (the Flux
// Kustomizations or Argo CD Applications themselves) and what each of its
// entry points applies, with the entry point's options. An overlay that no
// entry point deploys is keyed by its own directory.
func renderClusters(t *render.Tree) (map[string]map[string]string, error) {
	targets, err := render.Discover(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Dir, err)
	}
	entries, err := render.EntryPoints(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Dir, err)
	}
	var clusterDirs []string
	for _, tg := range targets {
		if tg.Kind == render.Cluster {
			clusterDirs = append(clusterDirs, tg.Dir)
		}
	}
	clusterOf := func(file string) string {
		best := path.Dir(file)
		n := 0
		for _, d := range clusterDirs {
			if strings.HasPrefix(file, d+"/") && len(d) > n {
				best, n = d, len(d)
			}
		}
		return best
	}
	out := map[string]map[string]string{}
	add := func(key, prefix string, res []*resource.Resource) error {
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		for _, r := range res {
			id := r.GetKind() + " " + r.GetName()
			if ns := r.GetNamespace(); ns != "" {
				id = r.GetKind() + " " + ns + "/" + r.GetName()
			}
			data, err := r.AsYAML()
			if err != nil {
				return fmt.Errorf("%s %s: %w", key, id, err)
			}
			out[key][prefix+id] = string(data)
		}
		return nil
	}
	// Prepare every entry point before any build: preparing writes to the tree.
	var sources *flux.Sources
	defer func() {
		if sources != nil {
			sources.Close()
		}
	}()
	deployed := map[string]bool{}
	var prepared []render.Target
	for i, e := range entries {
		if e.Path == "" || e.Path == "clusters" || strings.HasPrefix(e.Path, "clusters/") || e.Problem != "" {
			continue
		}
		deployed[e.Path] = true
		var tg render.Target
		switch e.Engine {
		case render.Flux:
			if sources == nil {
				if sources, err = flux.NewSources(t); err != nil {
					return nil, err
				}
			}
			tg, err = sources.Prepare(e, i)
		default:
			tg, err = argocd.Prepare(t, e, i)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", t.Dir, e.ID(), err)
		}
		prepared = append(prepared, tg)
	}
	for _, tg := range targets {
		if tg.Kind == render.Overlay && deployed[tg.Dir] {
			continue
		}
		res, err := kustomize.Render(t, tg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Dir, err)
		}
		if err := add(tg.Dir, "", res.Resources.Resources()); err != nil {
			return nil, err
		}
	}
	for _, tg := range prepared {
		res, err := engine.Build(t, tg)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", t.Dir, tg.Entry.ID(), err)
		}
		// "(blog -> overlays/dev) Deployment blog/blog": the entry point
		// that applies it, so two entry points' resources never collide.
		prefix := "(" + tg.Entry.Name + " -> " + tg.Dir + ") "
		if err := add(clusterOf(tg.Entry.File), prefix, res.Resources.Resources()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
