package render

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/envsubst"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// This file renders what a Flux Kustomization applies, as kustomize-controller
// v1.9.6 does (internal/controller/kustomization_controller.go): the source
// artifact without the files source-controller leaves out (.sourceignore,
// the GitRepository's spec.ignore, its default exclusions), the
// kustomization fluxcd/pkg/kustomize's Generator writes from the object
// (targetNamespace, namePrefix, nameSuffix, patches, images, components), a
// build with no load restrictions and no plugins, then per resource
// postBuild variable substitution (SubstituteVariables) and, at apply time,
// commonMetadata.

// FluxSources is what Flux entry points need from the whole repository: the
// files on disk for the Generator, which reads the path through the
// operating system, and the variables of substituteFrom.
type FluxSources struct {
	tree *Tree
	dir  string // the tree on disk: its directories, .sourceignore files, and the paths materialize wrote
	objs []ClusterObject
	// filtered caches a tree per set of ignore rules.
	filtered map[string]*Tree
	// written are the directories materialize has written; made, the
	// directories write has created on disk.
	written, made map[string]bool
}

// NewFluxSources writes the tree's .sourceignore files to a temporary
// directory, where sourceignore.LoadIgnorePatterns walks them; the files of
// each entry point's path follow when it is prepared (materialize). Close
// removes the directory.
func NewFluxSources(t *Tree) (*FluxSources, error) {
	dir, err := os.MkdirTemp("", "meshops-flux-")
	if err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	fs := &FluxSources{tree: t, dir: dir, filtered: map[string]*Tree{}, written: map[string]bool{}, made: map[string]bool{}}
	for _, rel := range t.FilesUnder(".") {
		if path.Base(rel) == sourceignore.IgnoreFile {
			if err := fs.write(rel); err != nil {
				fs.Close()
				return nil, err
			}
		}
	}
	objs, err := ClusterObjects(t)
	if err != nil {
		fs.Close()
		return nil, err
	}
	fs.objs = objs
	return fs, nil
}

// write copies one file of the tree to disk, creating its directory.
func (fs *FluxSources) write(rel string) error {
	data, err := fs.tree.ReadFile(rel)
	if err != nil {
		return err
	}
	abs := filepath.Join(fs.dir, filepath.FromSlash(rel))
	if dir := filepath.Dir(abs); !fs.made[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("flux: %w", err)
		}
		fs.made[dir] = true
	}
	if err := os.WriteFile(abs, data, 0o644); err != nil {
		return fmt.Errorf("flux: %w", err)
	}
	return nil
}

// materialize writes the files below dir to disk, once: what the Generator
// reads of an entry point's path (its kustomization, or every manifest when
// it has none) and of its components (whether they exist).
func (fs *FluxSources) materialize(dir string) error {
	if fs.written[dir] {
		return nil
	}
	fs.written[dir] = true
	for _, rel := range fs.tree.FilesUnder(dir) {
		if path.Base(rel) == sourceignore.IgnoreFile {
			continue // written by NewFluxSources
		}
		if err := fs.write(rel); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the temporary copy.
func (fs *FluxSources) Close() { _ = os.RemoveAll(fs.dir) }

// source returns the tree a Flux Kustomization builds from: the artifact
// source-controller would produce from the GitRepository it names.
func (fs *FluxSources) source(e *EntryPoint) (*Tree, error) {
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
func (fs *FluxSources) filter(ignore *string) (*Tree, error) {
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

// PrepareFlux writes, in memory, the kustomization Flux's Generator makes for
// a Flux entry point, in a copy of its path beside the original (so relative
// references still resolve), and returns the target to build. n numbers the
// copy. It writes to the tree: call it before any build starts.
func (fs *FluxSources) PrepareFlux(e *EntryPoint, n int) (Target, error) {
	tg := Target{Kind: Flux, Dir: e.Path, Entry: e}
	fail := func(err error) (Target, error) { return tg, &Error{Target: tg, Err: err} }
	src, err := fs.source(e)
	if err != nil {
		return fail(err)
	}
	tg.SetArtifact(src)
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
	data, err := yaml.Marshal(k)
	if err != nil {
		return fail(err)
	}
	shadow, err := src.Shadow(e.Path, "flux", n, filepath.Base(kfile), data)
	if err != nil {
		return fail(err)
	}
	tg.BuildDir = shadow
	custom, err := CheckSources(src, shadow)
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

// componentDirs are the repository directories of the entry point's
// components (relative to its path), those that stay inside the repository.
func componentDirs(e *EntryPoint) []string {
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
func (fs *FluxSources) variables(e *EntryPoint) (map[string]string, error) {
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

// UndefinedVar is a Flux variable a resource uses that no substitute,
// substituteFrom or default defines: Flux, without strict substitution,
// replaces it by "".
type UndefinedVar struct {
	Resource *resource.Resource // as rendered
	Names    []string
}

// varNotSet matches envsubst's strict-mode error, which names the variable.
var varNotSet = regexp.MustCompile(`variable not set \(strict mode\): "([^"]+)"`)

// undefinedVars returns the variables data uses with no value and no
// default, by evaluating it as Flux's strict mode does until it passes.
func undefinedVars(data string, vars map[string]string) []string {
	known := map[string]string{}
	for k, v := range vars {
		known[k] = v
	}
	var names []string
	for range 1000 {
		_, err := envsubst.Eval(data, func(s string) (string, bool) { v, ok := known[s]; return v, ok })
		if err == nil {
			return names
		}
		m := varNotSet.FindStringSubmatch(err.Error())
		if m == nil {
			return names // a malformed expression: the substitution itself reports it
		}
		names = append(names, m[1])
		known[m[1]] = ""
	}
	return names
}

// postBuild runs Flux's per-resource steps on a built target: the
// apiVersion/kind/name check, variable substitution (with SubstituteVariables
// itself; the variables resolved beforehand, since there is no cluster to
// read them from) and commonMetadata.
func postBuild(res *Result) error {
	e := res.Target.Entry
	spec := e.Flux.Spec
	var u unstructured.Unstructured
	if spec.PostBuild != nil {
		// Hand SubstituteVariables the variables as inline ones, in dry-run
		// mode (which skips its cluster reads): the same values in the same
		// precedence.
		vars := map[string]any{}
		for k, v := range res.Target.Variables() {
			vars[k] = v
		}
		u.Object = map[string]any{"metadata": map[string]any{"name": e.Name, "namespace": e.Namespace},
			"spec": map[string]any{"postBuild": map[string]any{"substitute": vars}}}
	}
	always := spec.PostBuild != nil && spec.PostBuild.SubstituteStrategy == "Always"
	for _, r := range res.Resources.Resources() {
		if r.GetName() == "" || r.GetKind() == "" || r.GetApiVersion() == "" {
			return fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", r.String())
		}
		if spec.PostBuild == nil {
			continue
		}
		var undefined []string
		if len(res.Target.Variables()) > 0 || always {
			if data, err := r.AsYAML(); err == nil && r.GetLabels()["kustomize.toolkit.fluxcd.io/substitute"] != "disabled" &&
				r.GetAnnotations()["kustomize.toolkit.fluxcd.io/substitute"] != "disabled" {
				undefined = undefinedVars(string(data), res.Target.Variables())
			}
		}
		out, err := fluxkustomize.SubstituteVariables(context.Background(), nil, u, r,
			fluxkustomize.SubstituteWithDryRun(true), fluxkustomize.SubstituteWithAlways(always))
		if err != nil {
			return fmt.Errorf("post build failed for '%s/%s': %w", r.GetGvk(), r.GetName(), err)
		}
		if out != nil {
			if _, err := res.Resources.Replace(r); err != nil {
				return err
			}
		}
		if len(undefined) > 0 {
			res.Undefined = append(res.Undefined, UndefinedVar{Resource: r, Names: undefined})
		}
	}
	if cm := spec.CommonMetadata; cm != nil {
		// ssa/utils.SetCommonMetadata: set each label and annotation on
		// every object, overwriting the object's own.
		for _, r := range res.Resources.Resources() {
			labels, annotations := r.GetLabels(), r.GetAnnotations()
			for k, v := range cm.Labels {
				labels[k] = v
			}
			for k, v := range cm.Annotations {
				annotations[k] = v
			}
			if err := r.SetLabels(labels); err != nil {
				return err
			}
			if err := r.SetAnnotations(annotations); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildFlux builds a target PrepareFlux prepared as kustomize-controller
// does: Kustomize with no load restrictions and no plugins, then postBuild.
func buildFlux(t *Tree, target Target) (*Result, error) {
	b := Builder{Options: Options(), PostBuild: postBuild}
	b.Options.LoadRestrictions = types.LoadRestrictionsNone
	if target.CustomSchema() {
		b.Kustomize = fluxBuild
	}
	return b.Build(t, target)
}

// fluxBuild builds with fluxcd/pkg/kustomize's Build: it holds a
// package-wide lock and resets kyaml's OpenAPI schema around the build, so
// a custom openapi: schema does not leak into other builds.
func fluxBuild(t *Tree, dir string) (resmap.ResMap, error) {
	m, err := fluxkustomize.Build(t.FS(), t.Abs(dir))
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), t.Root+"/", ""))
	}
	return m, nil
}
