// Package flux is Flux's Kustomize engine: it renders what a Flux
// Kustomization applies, as kustomize-controller v1.9.6 does
// (internal/controller/kustomization_controller.go): the source artifact
// without the files source-controller leaves out (.sourceignore, the
// GitRepository's spec.ignore, its default exclusions), the kustomization
// fluxcd/pkg/kustomize's Generator writes from the object (targetNamespace,
// namePrefix, nameSuffix, patches, images, components), a build with no load
// restrictions and no plugins, then per resource postBuild variable
// substitution (SubstituteVariables) and, at apply time, commonMetadata.
package flux

import (
	"encoding/base64"
	"fmt"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// Sources is what Flux entry points need from the whole repository: the
// files on disk for the Generator, which reads the path through the
// operating system, and the variables of substituteFrom.
type Sources struct {
	tree *render.Tree
	dir  string // the tree on disk: its directories, .sourceignore files, and the paths materialize wrote
	objs []render.ClusterObject
	// mu guards filtered: Generate fills it on every core.
	mu sync.Mutex
	// filtered caches a tree per set of ignore rules.
	filtered map[string]*render.Tree
	// written holds, per directory materialize writes, the write
	// (sync.OnceValue); made, the directories write has created on disk.
	written, made sync.Map
	// generated holds what Generate computed per entry point.
	generated map[*render.EntryPoint]*generated
}

// generated is the kustomization Flux's Generator makes for an entry point,
// from the artifact src.
type generated struct {
	src   *render.Tree
	kfile string
	data  []byte
	err   error
}

// NewSources writes the tree's .sourceignore files to a temporary
// directory, where sourceignore.LoadIgnorePatterns walks them; the files of
// each entry point's path follow when it is prepared (materialize). Close
// removes the directory.
func NewSources(t *render.Tree) (*Sources, error) {
	dir, err := os.MkdirTemp("", "meshops-flux-")
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	fs := &Sources{tree: t, dir: dir, filtered: map[string]*render.Tree{},
		generated: map[*render.EntryPoint]*generated{}}
	for _, rel := range t.FilesUnder(".") {
		if path.Base(rel) == sourceignore.IgnoreFile {
			if err := fs.write(rel); err != nil {
				fs.Close()
				return nil, err
			}
		}
	}
	objs, err := render.ClusterObjects(t)
	if err != nil {
		fs.Close()
		return nil, err
	}
	fs.objs = objs
	return fs, nil
}

// write copies one file of the tree to disk, creating its directory.
func (fs *Sources) write(rel string) error {
	data, err := fs.tree.ReadFile(rel)
	if err != nil {
		return err
	}
	abs := filepath.Join(fs.dir, filepath.FromSlash(rel))
	dir := filepath.Dir(abs)
	if _, ok := fs.made.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("flux: %w", err)
		}
		fs.made.Store(dir, true)
	}
	if err := os.WriteFile(abs, data, 0o644); err != nil {
		return fmt.Errorf("flux: %w", err)
	}
	return nil
}

// materialize writes to disk, once, what the Generator reads of an entry
// point's path and of its components (whether they exist): the path's
// kustomization file when it has one (findOrGenerateKustomization reads the
// first of Kustomize's recognized names that is a file, in the order
// KustomizationFile tries them, and nothing else), else every file below
// it, which scanManifests walks.
func (fs *Sources) materialize(dir string) error {
	write, _ := fs.written.LoadOrStore(dir, sync.OnceValue(func() error {
		if k := render.KustomizationFile(fs.tree, dir); k != "" {
			return fs.write(k)
		}
		for _, rel := range fs.tree.FilesUnder(dir) {
			if path.Base(rel) == sourceignore.IgnoreFile {
				continue // written by NewSources
			}
			if err := fs.write(rel); err != nil {
				return err
			}
		}
		return nil
	}))
	return write.(func() error)()
}

// Close removes the temporary copy.
func (fs *Sources) Close() { _ = os.RemoveAll(fs.dir) }

// source returns the tree a Flux Kustomization builds from: the artifact
// source-controller would produce from the GitRepository it names.
func (fs *Sources) source(e *render.EntryPoint) (*render.Tree, error) {
	ref := e.Flux.Spec.SourceRef
	if ref.Kind != "GitRepository" {
		return nil, fmt.Errorf("spec.sourceRef names a %s; the validator renders only this git repository", ref.Kind)
	}
	ns := ref.Namespace
	if ns == "" {
		ns = e.Namespace
	}
	var ignore *string
	found := ref.Name == "flux-system" && ns == "flux-system" // flux bootstrap creates it
	for _, o := range fs.objs {
		if o.Cluster == e.Cluster && o.Object["kind"] == "GitRepository" && o.Group() == "source.toolkit.fluxcd.io" &&
			o.Name() == ref.Name && o.Namespace() == ns {
			found = true
			spec, _ := o.Object["spec"].(map[string]any)
			if s, ok := spec["ignore"].(string); ok {
				ignore = &s
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("spec.sourceRef: GitRepository %s/%s is not declared in %s, and only flux bootstrap's flux-system/flux-system exists without one: Flux waits for the source forever", ns, ref.Name, e.Cluster)
	}
	key := "\x00"
	if ignore != nil {
		key = *ignore
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if t, ok := fs.filtered[key]; ok {
		return t, nil
	}
	t, err := fs.filter(ignore)
	if err != nil {
		return nil, err
	}
	fs.filtered[key] = t
	return t, nil
}

// filter copies the tree without the files source-controller excludes from
// a GitRepository artifact: its default patterns (VCS, CI and image files,
// .sops.yaml, ...), every .sourceignore file, and spec.ignore.
func (fs *Sources) filter(ignore *string) (*render.Tree, error) {
	ps, err := sourceignore.LoadIgnorePatterns(fs.dir, nil)
	if err != nil {
		return nil, fmt.Errorf("flux: .sourceignore: %w", err)
	}
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), nil)...)
	}
	m := sourceignore.NewDefaultMatcher(ps, nil)
	return fs.tree.Filter(func(rel string) bool { return ignored(m, rel) })
}

// ignored reports whether the file or one of its directories matches.
func ignored(m gitignore.Matcher, rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		if m.Match(parts[:i], i < len(parts)) {
			return true
		}
	}
	return false
}

// Prepare writes, in memory, the kustomization Flux's Generator makes for
// a Flux entry point, in a copy of its path beside the original (so relative
// references still resolve), and returns the target to build. n numbers the
// copy. It writes to the tree: call it before any build starts.
func (fs *Sources) Prepare(e *render.EntryPoint, n int) (render.Target, error) {
	tg := render.Target{Kind: render.Flux, Dir: e.Path, Entry: e}
	fail := func(err error) (render.Target, error) { return tg, &render.Error{Target: tg, Err: err} }
	g := fs.generated[e]
	if g == nil {
		g = fs.generate(e)
	}
	if g.src != nil {
		tg.SetArtifact(g.src)
	}
	if g.err != nil {
		return fail(g.err)
	}
	src := g.src
	shadow, err := src.Shadow(e.Path, "flux", n, filepath.Base(g.kfile), g.data)
	if err != nil {
		return fail(err)
	}
	tg.BuildDir = shadow
	custom, err := kustomize.CheckSources(src, shadow)
	if err != nil {
		return fail(err)
	}
	tg.SetCustomSchema(custom)
	vars, err := fs.variables(e)
	if err != nil {
		return fail(err)
	}
	tg.SetVariables(vars)
	return tg, nil
}

// Generate computes, on every core, the kustomization the Generator makes
// for each of the Flux entry points (generate), for Prepare to write: the
// Generator reads the path from disk, which is most of a Flux entry point's
// preparation. It only reads the tree.
func (fs *Sources) Generate(entries []*render.EntryPoint) {
	gen := make([]*generated, len(entries))
	var g errgroup.Group
	g.SetLimit(goruntime.GOMAXPROCS(0))
	for i, e := range entries {
		if e.Flux != nil && fs.generated[e] == nil {
			g.Go(func() error { gen[i] = fs.generate(e); return nil })
		}
	}
	_ = g.Wait()
	for i, e := range entries {
		if gen[i] != nil {
			fs.generated[e] = gen[i]
		}
	}
}

// generate is the artifact an entry point builds from and the kustomization
// the Generator makes for its path, with origin annotations asked for.
func (fs *Sources) generate(e *render.EntryPoint) *generated {
	src, err := fs.source(e)
	if err != nil {
		return &generated{err: err}
	}
	g := &generated{src: src}
	fail := func(err error) *generated { g.err = err; return g }
	if e.Path == "." || !src.IsDir(e.Path) {
		return fail(fmt.Errorf("kustomization path not found: %s", e.Path))
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(e.Flux)
	if err != nil {
		return fail(err)
	}
	// The Generator reads the path on disk, and checks that components exist.
	for _, d := range append([]string{e.Path}, componentDirs(e)...) {
		if err := fs.materialize(d); err != nil {
			return fail(err)
		}
	}
	manifest, kfile, _, err := fluxkustomize.NewGenerator(fs.dir, unstructured.Unstructured{Object: obj}).GenerateManifest(filepath.Join(fs.dir, filepath.FromSlash(e.Path)))
	if err != nil {
		return fail(err)
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(manifest, &k); err != nil {
		return fail(err)
	}
	k.BuildMetadata = append(k.BuildMetadata, types.OriginAnnotations)
	if g.data, err = yaml.Marshal(k); err != nil {
		return fail(err)
	}
	g.kfile = kfile
	return g
}

// componentDirs are the repository directories of the entry point's
// components (relative to its path), those that stay inside the repository.
func componentDirs(e *render.EntryPoint) []string {
	var out []string
	for _, c := range e.Flux.Spec.Components {
		d := path.Join(e.Path, c)
		if d != ".." && !strings.HasPrefix(d, "../") {
			out = append(out, d)
		}
	}
	return out
}

// variables resolves postBuild: substituteFrom's ConfigMaps and Secrets from
// those the entry point's cluster folder declares in the Kustomization's
// namespace (kustomize-controller reads them from the cluster), in order,
// then the inline substitute map over them, newlines removed, as
// fluxcd/pkg/kustomize's LoadVariables and SubstituteVariables do.
func (fs *Sources) variables(e *render.EntryPoint) (map[string]string, error) {
	pb := e.Flux.Spec.PostBuild
	if pb == nil {
		return nil, nil
	}
	vars := map[string]string{}
	for _, ref := range pb.SubstituteFrom {
		var found map[string]any
		for _, o := range fs.objs {
			if o.Cluster == e.Cluster && o.Object["kind"] == ref.Kind && o.Object["apiVersion"] == "v1" &&
				o.Name() == ref.Name && o.Namespace() == e.Namespace {
				found = o.Object
			}
		}
		if found == nil {
			if ref.Optional {
				continue
			}
			return nil, fmt.Errorf("substitute from '%s/%s' error: %s %s/%s is not declared under %s", ref.Kind, ref.Name, ref.Kind, e.Namespace, ref.Name, e.Cluster)
		}
		switch ref.Kind {
		case "ConfigMap":
			data, _ := found["data"].(map[string]any)
			for k, v := range data {
				vars[k] = strings.ReplaceAll(fmt.Sprint(v), "\n", "")
			}
		case "Secret":
			// The API server stores stringData into data.
			data, _ := found["data"].(map[string]any)
			for k, v := range data {
				b, err := base64.StdEncoding.DecodeString(fmt.Sprint(v))
				if err != nil {
					return nil, fmt.Errorf("substitute from 'Secret/%s' error: data.%s is not base64", ref.Name, k)
				}
				vars[k] = strings.ReplaceAll(string(b), "\n", "")
			}
			sd, _ := found["stringData"].(map[string]any)
			for k, v := range sd {
				vars[k] = strings.ReplaceAll(fmt.Sprint(v), "\n", "")
			}
		}
	}
	for k, v := range pb.Substitute {
		vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	return vars, nil
}
