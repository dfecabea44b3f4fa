// Package engine chooses, for a prepared target, the engine that renders
// it: an entry point's own (Flux's Kustomize, Argo CD's Kustomize) or, for an
// overlay, a cluster folder or a hidden baseline, the Kustomize CLI. The
// Helm engines (validate/render/helm) render a Release, found in a Flux
// target's render or an Argo CD Helm source, not a prepared target.
//
// The choice is a package of its own because no engine can make it: every
// engine imports the model (validate/render), and Flux's and Argo CD's build
// on the Kustomize CLI's engine, so none of them may import the others.
package engine

import (
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/argocd"
	"meshops.dev/meshops/validate/render/flux"
	"meshops.dev/meshops/validate/render/kustomize"
)

// Build renders a prepared target with the engine its Kind names.
func Build(t *render.Tree, target render.Target) (*render.Result, error) {
	switch target.Kind {
	case render.Flux:
		return flux.Build(t, target)
	case render.ArgoCD:
		return argocd.Build(t, target)
	}
	return kustomize.Build(t, target)
}
