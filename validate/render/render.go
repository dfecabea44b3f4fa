package render

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
)

// wrapperDir is where, in memory only, the validator puts the kustomization
// that wraps a target to ask Kustomize for origin annotations. The dot keeps
// it out of every walk of the repository.
const wrapperDir = ".meshops-render"

// Result is one rendered target.
type Result struct {
	Target Target
	// Resources is the build output, byte for byte what `kustomize build`
	// prints (origin annotations removed).
	Resources resmap.ResMap
	// sources maps each resource to the repository file that declared it.
	sources map[*resource.Resource]string
	tree    *Tree
	// Undefined lists, for a Flux target, the variables each resource uses
	// that nothing defines.
	Undefined []UndefinedVar
	// destinationSet: Argo CD's destination namespace changed a resource.
	destinationSet bool
	// reads is what the build read from the tree.
	reads *readLog
	// line is, for a Helm target, the line of its HelmRelease or
	// Application: where a finding about a chart-rendered object points
	// when nothing closer is known.
	line int
}

// NewHelmResult wraps the objects an engine outside this package rendered
// (render/helm: a chart's manifests) as the result of target, every object
// declared by the target's entry point file at its line. t is the
// repository, from which the checks read files.
func NewHelmResult(t *Tree, target Target, m resmap.ResMap) *Result {
	r := &Result{Target: target, Resources: m, sources: make(map[*resource.Resource]string, m.Size()), tree: t}
	if target.Entry != nil {
		r.line = target.Entry.Line
		for _, res := range m.Resources() {
			r.sources[res] = target.Entry.File
		}
	}
	return r
}

// WithTarget returns the result as the render of another target whose
// engine renders the same objects (a Helm release of the same chart,
// values, name and namespace). Resources are shared: checks only read them.
func (r *Result) WithTarget(tg Target) *Result {
	shared := *r
	shared.Target = tg
	if tg.Entry != nil && r.line != 0 {
		shared.line = tg.Entry.Line
		shared.sources = make(map[*resource.Resource]string, len(r.sources))
		for res := range r.sources {
			shared.sources[res] = tg.Entry.File
		}
	}
	return &shared
}

// EntryLine is, for a Helm target, the line of the HelmRelease or
// Application that installs the chart, which findings about rendered
// objects name when their file has no document of theirs; 0 otherwise.
func (r *Result) EntryLine() int { return r.line }

// Source returns the repository-relative file that declared r, or the
// target's kustomization file when Kustomize generated r.
func (r *Result) Source(res *resource.Resource) string {
	if s, ok := r.sources[res]; ok && s != "" {
		return s
	}
	if f := KustomizationFile(r.tree, r.Target.Dir); f != "" || r.Target.Entry == nil {
		return f
	}
	return r.Target.Entry.File
}

// Share returns the result as the render of another target, when that
// target's engine would render exactly the same resources: a plain Flux
// Kustomization (no options, no postBuild) of the path a plain Argo CD
// Application built. Kustomize's output does not depend on the load
// restrictions once a build succeeds, so that holds when Flux's artifact
// left out none of the repository's files and Argo CD gave no resource its
// destination namespace. Resources are shared: checks only read them.
//
// A plain Flux Kustomization may also reuse another plain one's build of the
// same path from the same source.
func (r *Result) Share(tg Target) (*Result, bool) {
	if tg.Kind != Flux || tg.Entry == nil || tg.Entry.HasOptions() || r.Target.Entry == nil || r.Target.Entry.HasOptions() {
		return nil, false
	}
	switch r.Target.Kind {
	case Flux:
		if r.Target.tree != tg.tree {
			return nil, false
		}
	case ArgoCD:
		// The artifact must hold every file the Argo CD build read: a file
		// source-controller leaves out (.github/, images, .sourceignore'd
		// paths) changes Flux's build only if Kustomize reads it. The
		// in-memory kustomizations each engine's preparation added beside
		// the path are not part of the other's build.
		if r.destinationSet || tg.tree == nil || tg.tree.artifactOf != r.tree || r.reads.anyOf(tg.tree.dropped) {
			return nil, false
		}
	default:
		return nil, false
	}
	shared := *r
	shared.Target = tg
	return &shared, true
}

// Tree is the tree the result was rendered from.
func (r *Result) Tree() *Tree { return r.tree }

// Memo is the tree's Memo: what was parsed from a file, parsed once.
func (r *Result) Memo(rel, purpose string, compute func() any) any {
	return r.tree.Memo(rel, purpose, compute)
}

// ReadFile reads a repository file from the tree the result was rendered from.
func (r *Result) ReadFile(rel string) ([]byte, error) { return r.tree.ReadFile(rel) }

// Error is a target that could not be rendered.
type Error struct {
	Target Target
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("render %s: %v", e.Target.Dir, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

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
func Render(t *Tree, target Target) (*Result, error) {
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
func Prepare(t *Tree, target Target) (customSchema bool, err error) {
	fail := func(err error) (bool, error) { return false, &Error{Target: target, Err: err} }
	if target.Generated {
		if err := t.generateKustomization(target.Dir); err != nil {
			return fail(err)
		}
	}
	customSchema, err = checkSources(t, target.Dir)
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

// Build renders a prepared target. It only reads the tree, so builds may run
// concurrently, unless a target sets a custom OpenAPI schema: Kustomize keeps
// the schema in process-wide state (kustomize issue #3659, the reason Flux
// serialises its builds), so one such build would change the others' result.
func Build(t *Tree, target Target) (res *Result, err error) {
	fail := func(err error) (*Result, error) { return nil, &Error{Target: target, Err: err} }
	defer func() {
		// Kustomize and kyaml panic on some malformed input; report it as
		// the target's error instead of crashing the run.
		if r := recover(); r != nil {
			res, err = fail(fmt.Errorf("kustomize failed on malformed input: %v", r))
		}
	}()
	if target.tree != nil {
		t = target.tree
	}
	dir := path.Join(wrapperDir, target.Dir)
	if target.BuildDir != "" {
		dir = target.BuildDir
	}
	opts := Options()
	if target.Kind == Flux {
		// kustomize-controller: no load restrictions, no plugins.
		opts.LoadRestrictions = types.LoadRestrictionsNone
	}
	var (
		m     resmap.ResMap
		reads *readLog
	)
	if target.Kind == Flux && target.customSchema {
		r, err := fluxBuild(t, dir)
		if err != nil {
			return fail(err)
		}
		m = r.Resources
	} else {
		reads = &readLog{FileSystem: t.fs, tree: t}
		m, err = krusty.MakeKustomizer(opts).Run(reads, t.Abs(dir))
		if err != nil {
			// The wrapper names the target by a relative path of the in-memory
			// tree (../../../overlays/qa): name it as the repository does.
			up := strings.Repeat("../", strings.Count(dir, "/")+1)
			return fail(errors.New(strings.ReplaceAll(t.relErr(err).Error(), up+target.Dir, target.Dir)))
		}
	}
	res = &Result{Target: target, Resources: m, sources: make(map[*resource.Resource]string, m.Size()), tree: t, reads: reads}
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
				res.sources[r] = src
			}
		}
		annotations := r.GetAnnotations()
		delete(annotations, "config.kubernetes.io/origin")
		if err := r.SetAnnotations(annotations); err != nil {
			return fail(err)
		}
	}
	switch target.Kind {
	case Flux:
		if err := postBuild(res); err != nil {
			return fail(err)
		}
	case ArgoCD:
		argoDestination(res)
	}
	return res, nil
}

// generateKustomization writes, in memory, the kustomization Flux's
// kustomize-controller generates for a directory without one.
func (t *Tree) generateKustomization(dir string) error {
	k := types.Kustomization{TypeMeta: types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind}}
	for _, f := range manifestsBelow(t, dir) {
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
		if yaml.Unmarshal(firstDocument(data), &obj) == nil && obj.APIVersion != "" && obj.Kind != "" {
			k.Resources = append(k.Resources, f)
		}
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	return t.Add(path.Join(dir, "kustomization.yaml"), data)
}

func firstDocument(data []byte) []byte {
	s := string(data)
	s = strings.TrimPrefix(s, "---\n")
	if i := strings.Index(s, "\n---"); i >= 0 {
		s = s[:i]
	}
	return []byte(s)
}

// relErr shortens the tree's mount point out of Kustomize's messages and,
// where Kustomize nests the cause in its accumulation chain, keeps only the
// innermost kustomization and the cause.
func (t *Tree) relErr(err error) error {
	msg := strings.ReplaceAll(err.Error(), t.Root+"/"+wrapperDir+"/", "")
	msg = strings.ReplaceAll(msg, t.Root+"/", "")
	const marker = "recursed accumulation of path '"
	if i := strings.LastIndex(msg, marker); i >= 0 {
		rest := msg[i+len(marker):]
		if dir, cause, ok := strings.Cut(rest, "': "); ok {
			if file := KustomizationFile(t, dir); file != "" {
				dir = file
			}
			msg = dir + ": " + cause
		}
	}
	return errors.New(msg)
}
