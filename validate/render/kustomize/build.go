// Package kustomize is the Kustomize CLI's engine: it renders an overlay, a
// cluster folder or a hidden baseline as `kustomize build` does, with
// sigs.k8s.io/kustomize/api and the CLI's defaults (Options: legacy order,
// load restrictions, no plugins), through an in-memory wrapper kustomization
// that asks for origin annotations, so that every resource keeps the file
// that declared it. Prepare first refuses what would reach the network or
// fail without naming a file (CheckSources) and, for a folder without a
// kustomization, writes the one Flux would generate; PrepareWithout prepares
// a build without one of a kustomization's transformers. Flux's and Argo CD's
// engines run Kustomize through its Builder.
package kustomize

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// wrapperDir is where, in memory only, the validator puts the kustomization
// that wraps a target to ask Kustomize for origin annotations. The dot keeps
// it out of every walk of the repository.
const wrapperDir = ".meshops-render"

// Options are Kustomize's options for every render: the CLI's defaults
// (legacy output order, load restrictions rooted at each kustomization,
// no plugins of any kind).
func Options() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionUnspecified
	o.LoadRestrictions = types.LoadRestrictionsRootOnly
	o.PluginConfig = types.DisabledPluginConfig()
	return o
}

// Render prepares and builds one target.
func Render(t *render.Tree, target render.Target) (*render.Result, error) {
	if _, err := Prepare(t, target); err != nil {
		return nil, err
	}
	return Build(t, target)
}

// Prepare checks a target's sources and writes, in memory, the kustomizations
// its build needs (the origin wrapper; for a Flux folder the generated one).
// It writes to the tree, so it must not run concurrently with anything else.
// customSchema reports whether a kustomization the target reaches sets
// openapi:, which Kustomize keeps in process-wide state.
func Prepare(t *render.Tree, target render.Target) (customSchema bool, err error) {
	fail := func(err error) (bool, error) { return false, &render.Error{Target: target, Err: err} }
	if target.Generated {
		if err := generateKustomization(t, target.Dir); err != nil {
			return fail(err)
		}
	}
	customSchema, err = CheckSources(t, target.Dir)
	if err != nil {
		return fail(err)
	}
	wrapper := path.Join(wrapperDir, target.Dir)
	up := strings.Repeat("../", strings.Count(wrapper, "/")+1)
	doc := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- %s%s\nbuildMetadata:\n- originAnnotations\n", up, target.Dir)
	if err := t.Add(path.Join(wrapper, "kustomization.yaml"), []byte(doc)); err != nil {
		return fail(err)
	}
	return customSchema, nil
}

// Build renders a prepared target with the Kustomize CLI's rules (Options).
// It only reads the tree, so builds may run concurrently, unless a target
// sets a custom OpenAPI schema: Kustomize keeps the schema in process-wide
// state (kustomize issue #3659, the reason Flux serialises its builds), so
// one such build would change the others' result.
func Build(t *render.Tree, target render.Target) (*render.Result, error) {
	return Builder{Options: Options()}.Build(t, target)
}

// Builder is how an engine runs Kustomize on a prepared target: the
// Kustomize CLI, Flux's kustomize-controller and Argo CD's repo-server each
// build the kustomization the engine's Prepare wrote, then take the origin
// annotations Kustomize adds as each resource's source.
type Builder struct {
	// Options are Kustomize's options (Options: the CLI's).
	Options *krusty.Options
	// Kustomize, if set, builds instead of Kustomize's krusty with Options
	// (Flux's fluxcd/pkg/kustomize for a custom schema), from the tree's file
	// system; what it reads is then not recorded.
	Kustomize func(t *render.Tree, dir string) (resmap.ResMap, error)
	// PostBuild, if set, runs the engine's own steps on the built resources
	// (Flux's postBuild, Argo CD's destination namespace).
	PostBuild func(*render.Result) error
}

// Build renders a prepared target as b says.
func (b Builder) Build(t *render.Tree, target render.Target) (res *render.Result, err error) {
	fail := func(err error) (*render.Result, error) { return nil, &render.Error{Target: target, Err: err} }
	defer func() {
		// Kustomize and kyaml panic on some malformed input; report it as
		// the target's error instead of crashing the run.
		if r := recover(); r != nil {
			res, err = fail(fmt.Errorf("kustomize failed on malformed input: %v", r))
		}
	}()
	if a := target.Artifact(); a != nil {
		t = a
	}
	dir := path.Join(wrapperDir, target.Dir)
	if target.BuildDir != "" {
		dir = target.BuildDir
	}
	var (
		m     resmap.ResMap
		reads *render.ReadLog
	)
	if b.Kustomize != nil {
		m, err = b.Kustomize(t, dir)
		if err != nil {
			return fail(err)
		}
	} else {
		reads = render.NewReadLog(t)
		m, err = krusty.MakeKustomizer(b.Options).Run(reads, t.Abs(dir))
		if err != nil {
			// The wrapper names the target by a relative path of the in-memory
			// tree (../../../overlays/qa): name it as the repository does.
			up := strings.Repeat("../", strings.Count(dir, "/")+1)
			return fail(errors.New(strings.ReplaceAll(relErr(t, err).Error(), up+target.Dir, target.Dir)))
		}
	}
	sources := make(map[*resource.Resource]string, m.Size())
	for _, r := range m.Resources() {
		origin, err := r.GetOrigin()
		if err == nil && origin != nil && origin.Repo == "" {
			file := origin.Path
			if file == "" {
				file = origin.ConfiguredIn // a generated resource: the kustomization that generates it
			}
			if file != "" {
				src := path.Clean(path.Join(dir, file))
				if target.BuildDir != "" && (src == target.BuildDir || strings.HasPrefix(src, target.BuildDir+"/")) {
					src = target.Dir + strings.TrimPrefix(src, target.BuildDir)
				}
				sources[r] = src
			}
		}
		annotations := r.GetAnnotations()
		delete(annotations, "config.kubernetes.io/origin")
		if err := r.SetAnnotations(annotations); err != nil {
			return fail(err)
		}
	}
	res = render.NewResult(t, target, m, sources, reads)
	if b.PostBuild != nil {
		if err := b.PostBuild(res); err != nil {
			return fail(err)
		}
	}
	return res, nil
}

// generateKustomization writes, in memory, the kustomization Flux's
// kustomize-controller generates for a directory without one.
func generateKustomization(t *render.Tree, dir string) error {
	k := types.Kustomization{TypeMeta: types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind}}
	for _, f := range render.ManifestsBelow(t, dir) {
		if t.IsDir(path.Join(dir, f)) {
			k.Resources = append(k.Resources, f)
			continue
		}
		data, err := t.ReadFile(path.Join(dir, f))
		if err != nil {
			return err
		}
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		// Flux includes only files that hold Kubernetes objects.
		if yaml.Unmarshal(render.FirstDocument(data), &obj) == nil && obj.APIVersion != "" && obj.Kind != "" {
			k.Resources = append(k.Resources, f)
		}
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	return t.Add(path.Join(dir, "kustomization.yaml"), data)
}

// relErr shortens the tree's mount point out of Kustomize's messages and,
// where Kustomize nests the cause in its accumulation chain, keeps only the
// innermost kustomization and the cause.
func relErr(t *render.Tree, err error) error {
	msg := strings.ReplaceAll(err.Error(), t.Root+"/"+wrapperDir+"/", "")
	msg = strings.ReplaceAll(msg, t.Root+"/", "")
	const marker = "recursed accumulation of path '"
	if i := strings.LastIndex(msg, marker); i >= 0 {
		rest := msg[i+len(marker):]
		if dir, cause, ok := strings.Cut(rest, "': "); ok {
			if file := render.KustomizationFile(t, dir); file != "" {
				dir = file
			}
			msg = dir + ": " + cause
		}
	}
	return errors.New(msg)
}
