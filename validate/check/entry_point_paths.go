package check

import (
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// EntryPointPaths checks what Argo CD and Flux would sync.
var EntryPointPaths = catalogued("GO001")

func entryPointPaths(repo *Repo, env *Env) []Finding {
	c := EntryPointPaths
	rendered := map[string]bool{}
	for _, ix := range repo.Targets {
		rendered[ix.Target.Dir] = true
	}
	var out []Finding
	for _, ep := range entryPoints(repo) {
		if repo.Failed[ep.obj.Source+"#"+ep.obj.Name] != nil {
			continue // the pipeline reported how its engine fails
		}
		switch {
		case ep.path == "" || ep.path == ".":
			out = append(out, c.finding(ep.ix, ep.obj, "%s is empty: it would sync the whole repository; point it at an overlay", ep.what))
		case !repo.Tree.IsDir(ep.path):
			out = append(out, c.finding(ep.ix, ep.obj, "%s %q is not a directory of the repository", ep.what, ep.path))
		case repo.Failed[ep.path] != nil:
			// The target's own RN001/RN002 finding names the cause, in its file.
		case !rendered[ep.path]:
			tg := render.Target{Kind: render.Overlay, Dir: ep.path, Generated: render.KustomizationFile(repo.Tree, ep.path) == ""}
			if _, err := kustomize.Render(repo.Tree, tg); err != nil {
				out = append(out, c.finding(ep.ix, ep.obj, "%s %q does not render: %v", ep.what, ep.path, err))
			}
		}
	}
	return out
}

func init() {
	EntryPointPaths.Repo = entryPointPaths
}
