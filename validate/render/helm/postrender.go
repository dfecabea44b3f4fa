package helm

import (
	"encoding/json"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// This file applies a HelmRelease's spec.postRenderers as helm-controller
// does (internal/postrender/kustomize.go): each Kustomize post-renderer, in
// order, builds a kustomization of its own in memory whose one resource is
// the rendered stream (helm-output.yaml), with the post-renderer's images
// and patches, no load restrictions and no plugins. spec.postRenderStrategy
// says which stream goes through them: combined (Helm 4's default) the
// manifest and the hooks together, nohooks the manifest only, separate each
// on its own.

// postRender runs the release's post-renderers over manifest and hooks and
// returns the stream the release installs.
func (rd *Renderer) postRender(r *Release, manifest, hooks []byte) ([]byte, error) {
	if len(r.PostRenderers) == 0 {
		return append(manifest, hooks...), nil
	}
	run := func(in []byte) ([]byte, error) {
		for i, p := range r.PostRenderers {
			if p.Kustomize == nil {
				continue
			}
			out, err := rd.kustomize(p.Kustomize, in)
			if err != nil {
				return nil, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", i, err)
			}
			in = out
		}
		return in, nil
	}
	switch r.PostRenderStrategy {
	case helmv2.PostRenderStrategyNoHooks:
		out, err := run(manifest)
		if err != nil {
			return nil, err
		}
		return append(out, hooks...), nil
	case helmv2.PostRenderStrategySeparate:
		out, err := run(manifest)
		if err != nil {
			return nil, err
		}
		if len(hooks) == 0 {
			return out, nil
		}
		h, err := run(hooks)
		if err != nil {
			return nil, err
		}
		return append(append(out, "---\n"...), h...), nil
	}
	return run(append(manifest, hooks...))
}

// kustomize is one Kustomize post-renderer over a rendered stream.
func (rd *Renderer) kustomize(k *helmv2.Kustomize, in []byte) ([]byte, error) {
	const input = "helm-output.yaml"
	cfg := kustypes.Kustomization{TypeMeta: kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind}}
	cfg.Resources = []string{input}
	for _, img := range k.Images {
		cfg.Images = append(cfg.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.Patches {
		patch := kustypes.Patch{Patch: p.Patch}
		if s := p.Target; s != nil {
			patch.Target = &kustypes.Selector{LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
			patch.Target.Group, patch.Target.Version, patch.Target.Kind = s.Group, s.Version, s.Kind
			patch.Target.Name, patch.Target.Namespace = s.Name, s.Namespace
		}
		cfg.Patches = append(cfg.Patches, patch)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile(input, in); err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", data); err != nil {
		return nil, err
	}
	// helm-controller serialises its post-render builds (kustomize issue
	// #3659, process-wide state); the renders of one run share this lock.
	rd.postMu.Lock()
	defer rd.postMu.Unlock()
	m, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: kustypes.LoadRestrictionsNone, PluginConfig: kustypes.DisabledPluginConfig()}).Run(fs, ".")
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}
