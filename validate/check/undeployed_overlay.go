package check

import (
	"meshops.dev/meshops/validate/render"
)

// UndeployedOverlay warns about an environment no cluster syncs. It
// concerns this repository's layout only: the targets of kind Overlay are
// the folders of overlays/ (Discover), never an entry point's path.
var UndeployedOverlay = catalogued("GO004")

func undeployedOverlay(repo *Repo, _ *Env) []Finding {
	c := UndeployedOverlay
	deployed := map[string]bool{}
	for _, ep := range entryPoints(repo) {
		deployed[ep.path] = true
	}
	var out []Finding
	for _, ix := range repo.Targets {
		if ix.Target.Kind == render.Overlay && !deployed[ix.Target.Dir] {
			out = append(out, Finding{
				Code: c.Code, Severity: c.Severity, Target: ix.Target.Dir,
				File:    render.KustomizationFile(repo.Tree, ix.Target.Dir),
				Message: "no Flux Kustomization or Argo CD Application deploys this overlay: add an entry point or delete the overlay",
			})
		}
	}
	return out
}

func init() {
	UndeployedOverlay.Repo = undeployedOverlay
}
