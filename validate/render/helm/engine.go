// Package helm renders a Helm release offline, as the GitOps engines do:
// Flux's helm-controller (a HelmRelease, by an action.Install dry run of
// Helm's SDK at the release helm-controller v1.6 uses) and Argo CD's
// repo-server (`helm template` of an Application's Helm source). The
// rendered objects are a render.Result, indexed and checked as any target.
package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"path"
	"strings"
	"sync"
	"text/template"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/fluxcd/pkg/chartutil"

	"meshops.dev/meshops/validate/render"
)

// Release is one Helm release a HelmRelease or an Application's Helm source
// declares, resolved to what the engine passes Helm.
type Release struct {
	// Entry is the HelmRelease or Application (Engine FluxHelm or ArgoHelm).
	Entry *render.EntryPoint
	// RepoURL, Chart and Version name a chart of a Helm repository or OCI
	// registry; LocalPath, a chart directory of this repository instead.
	RepoURL, Chart, Version string
	LocalPath               string
	// VersionLine is the line of Entry.File that pins the version
	// (spec.chart.spec.version, targetRevision), or Entry.Line.
	VersionLine int
	// Name and Namespace are the release's name and namespace.
	Name, Namespace string
	// ChartValueFiles are files of the chart merged first (Flux's
	// chart.spec.valuesFiles; Argo CD's valueFiles relative to a remote
	// chart), in order.
	ChartValueFiles []string
	// Values are the values the release sets (files of this repository,
	// valuesFrom, values), merged in the engine's order.
	Values map[string]any
	// Set, SetString and SetFile are Argo CD's parameters (--set,
	// --set-string, --set-file), applied after Values in that order.
	Set, SetString []string
	SetFile        map[string]string // name -> file content
	// IncludeCRDs installs the chart's crds/ too.
	IncludeCRDs bool
	// DisableHooks leaves the chart's hooks out.
	DisableHooks bool
	// SkipSchemaValidation skips values.schema.json.
	SkipSchemaValidation bool
	// ObjectNamespace is the namespace the engine gives rendered namespaced
	// objects that set none (Helm's release namespace; Argo CD's
	// destination namespace).
	ObjectNamespace string
	// PostRenderers and PostRenderStrategy are a HelmRelease's
	// spec.postRenderers and spec.postRenderStrategy (postrender.go).
	PostRenderers      []helmv2.PostRenderer
	PostRenderStrategy helmv2.PostRenderStrategy
	// Ignored lists the options the validator does not apply (Argo CD's
	// kubeVersion), for the pipeline to say so.
	Ignored []string
	// Problem says why the release cannot be resolved (a missing
	// HelmRepository, a values reference that does not exist).
	Problem string
}

// Target is the release's target: ID file#name, Dir the entry's file.
func (r *Release) Target() render.Target {
	return render.Target{Kind: r.Entry.Engine, Dir: r.Entry.File, Entry: r.Entry}
}

// Key identifies what a render of the release depends on: two releases of
// the same key render the same objects, so a run renders each key once.
func (r *Release) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00%v\x00%v\x00%v\x00%v\x00%v",
		r.RepoURL, r.Chart, r.Version, r.LocalPath, r.Name, r.Namespace, r.ObjectNamespace,
		r.ChartValueFiles, r.Values, r.Set, r.SetString, r.SetFile, r.IncludeCRDs, r.DisableHooks)
	fmt.Fprintf(&b, "\x00%v", r.SkipSchemaValidation)
	if len(r.PostRenderers) > 0 {
		post, _ := json.Marshal(r.PostRenderers)
		fmt.Fprintf(&b, "\x00%s\x00%s", post, r.PostRenderStrategy)
	}
	return b.String()
}

// IstioChart reports whether the release installs one of Istio's charts.
func (r *Release) IstioChart() bool { return r.LocalPath == "" && IsIstioChart(r.RepoURL, r.Chart) }

// IstioSubstituted reports whether the release installs an Istio chart of
// another release than IstioVersion, which Render replaces by the module's.
func (r *Release) IstioSubstituted() bool { return r.IstioChart() && !IstioVersionMatches(r.Version) }

// RenderError is a chart that does not render: a template error, values
// the chart's schema refuses, a chart that does not load.
type RenderError struct {
	Release *Release
	Err     error
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("chart %s does not render: %v", e.Release.chartName(), e.Err)
}
func (e *RenderError) Unwrap() error { return e.Err }

func (r *Release) chartName() string {
	if r.LocalPath != "" {
		return r.LocalPath
	}
	return r.Chart + " " + r.Version
}

// Renderer renders releases, sharing what one run's renders parse alike.
// It is safe for concurrent use.
type Renderer struct {
	// Charts finds the charts neither Istio's nor in the repository.
	Charts ChartSource
	// parsed memoizes Helm's fromYaml by its input: Istio's base chart
	// parses each of its CRDs twice per render, and every release of the
	// chart parses the same ones.
	parsed sync.Map // string -> map[string]any
	// postMu serialises the post-renderers' Kustomize builds, as
	// helm-controller does (postrender.go).
	postMu sync.Mutex
}

// fromYAML is Helm's fromYaml (pkg/engine/funcs.go: sigs.k8s.io/yaml into
// a map, the error under "Error"), memoized: each call gets its own deep
// copy, which templates may change (Istio's base chart sets labels on it).
func (rd *Renderer) fromYAML(str string) map[string]any {
	if m, ok := rd.parsed.Load(str); ok {
		return deepCopy(m.(map[string]any))
	}
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	rd.parsed.Store(str, m)
	return deepCopy(m)
}

// Render renders one release with a Renderer of its own.
func Render(t *render.Tree, r *Release, charts ChartSource) (*render.Result, error) {
	return (&Renderer{Charts: charts}).Render(t, r)
}

// Render renders the release as its engine would and returns its objects
// as a render.Result of the release's target. A chart the source does not
// hold fails with an error wrapping ErrNotCached; a chart that does not
// render, with a *RenderError.
func (rd *Renderer) Render(t *render.Tree, r *Release) (*render.Result, error) {
	manifest, err := rd.Manifest(t, r)
	if err != nil {
		return nil, err
	}
	m, err := resMap(manifest)
	if err != nil {
		return nil, &RenderError{Release: r, Err: fmt.Errorf("rendered manifests do not parse: %w", err)}
	}
	for _, res := range m.Resources() {
		if res.GetNamespace() == "" && r.ObjectNamespace != "" && !render.ClusterScoped(res.GetKind()) {
			if err := res.SetNamespace(r.ObjectNamespace); err != nil {
				return nil, &RenderError{Release: r, Err: err}
			}
		}
	}
	return render.NewHelmResult(t, r.Target(), m), nil
}

// resMap parses rendered manifests into Kustomize's resources, as
// resmap.Factory.NewResMapFromBytes does, without its copy of every node to
// replace YAML anchors when no document has one (Helm's toYaml writes
// none): on Istio's base chart, whose CRDs are most of a render, that copy
// is the larger part of the cost.
func resMap(manifest []byte) (resmap.ResMap, error) {
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	nodes, err := (&kio.ByteReader{OmitReaderAnnotations: true, Reader: bytes.NewReader(manifest)}).Read()
	if err != nil {
		return nil, err
	}
	var kept []*kyaml.RNode
	for _, n := range nodes {
		if n.IsNilOrEmpty() {
			continue
		}
		if hasAnchors(n.YNode()) || strings.HasSuffix(n.GetKind(), "List") {
			// Anchors to replace, or a List to inline: Kustomize's own path.
			return resmap.NewFactory(rf).NewResMapFromBytes(manifest)
		}
		kept = append(kept, n)
	}
	return resmap.NewFactory(rf).NewResMapFromRNodeSlice(kept)
}

func hasAnchors(n *kyaml.Node) bool {
	if n.Kind == kyaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAnchors(c) {
			return true
		}
	}
	return false
}

// Manifest renders the release to the YAML stream `helm template` prints:
// the manifest (with the chart's CRDs when IncludeCRDs) and the hooks
// (test hooks aside: neither engine runs them at install).
func (rd *Renderer) Manifest(t *render.Tree, r *Release) ([]byte, error) {
	chrt, err := r.load(t, rd.Charts)
	if err != nil {
		return nil, err
	}
	vals, err := r.values(chrt)
	if err != nil {
		return nil, &RenderError{Release: r, Err: err}
	}
	// As helm-controller's dry-run install and `helm template` do: no
	// cluster, Helm's default capabilities, in-memory release storage.
	cfg := action.NewConfiguration()
	cfg.CustomTemplateFuncs = template.FuncMap{"fromYaml": rd.fromYAML}
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.Replace = true
	install.ReleaseName = r.Name
	install.Namespace = r.Namespace
	install.IncludeCRDs = r.IncludeCRDs
	install.DisableHooks = r.DisableHooks
	install.SkipSchemaValidation = r.SkipSchemaValidation
	rel, err := runInstall(install, chrt, vals)
	if err != nil {
		return nil, &RenderError{Release: r, Err: err}
	}
	var out, hooks bytes.Buffer
	out.WriteString(strings.TrimSpace(rel.Manifest))
	out.WriteString("\n")
	if !r.DisableHooks {
		for _, h := range rel.Hooks {
			if isTestHook(h) {
				continue
			}
			fmt.Fprintf(&hooks, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
		}
	}
	stream, err := rd.postRender(r, out.Bytes(), hooks.Bytes())
	if err != nil {
		return nil, &RenderError{Release: r, Err: err}
	}
	return stream, nil
}

// runInstall runs the install, a panic of the template engine (malformed
// input) returned as an error.
func runInstall(install *action.Install, chrt *chart.Chart, vals map[string]any) (rel *helmrelease.Release, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("helm failed on malformed input: %v", p)
		}
	}()
	out, err := install.Run(chrt, vals)
	if err != nil {
		return nil, err
	}
	rel, ok := out.(*helmrelease.Release)
	if !ok {
		return nil, errors.New("only the Chart API v2 is supported")
	}
	return rel, nil
}

func isTestHook(h *helmrelease.Hook) bool {
	for _, e := range h.Events {
		if e == helmrelease.HookTest {
			return true
		}
	}
	return false
}

// load returns the chart: Istio's from the module when the release
// installs one of them (the module's when it pins another Istio release),
// a directory of this repository, or the source's packaged chart.
func (r *Release) load(t *render.Tree, charts ChartSource) (*chart.Chart, error) {
	switch {
	case r.IstioChart():
		version := r.Version
		if r.IstioSubstituted() {
			version = IstioVersion() + ".0"
		}
		c, err := loadIstioChart(r.Chart, version)
		if err != nil {
			return nil, &RenderError{Release: r, Err: err}
		}
		return c, nil
	case r.LocalPath != "":
		c, err := loadTreeChart(t, r.LocalPath)
		if err != nil {
			return nil, &RenderError{Release: r, Err: err}
		}
		return c, nil
	}
	if charts == nil {
		charts = NoCharts{}
	}
	p, err := charts.Path(r.RepoURL, r.Chart, r.Version)
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadFile(p)
	if err != nil {
		return nil, &RenderError{Release: r, Err: err}
	}
	return c, nil
}

// loadTreeChart loads the chart in a directory of the repository.
func loadTreeChart(t *render.Tree, dir string) (*chart.Chart, error) {
	var files []*archive.BufferedFile
	for _, rel := range t.FilesUnder(dir) {
		data, err := t.ReadFile(rel)
		if err != nil {
			return nil, err
		}
		files = append(files, &archive.BufferedFile{Name: strings.TrimPrefix(rel, dir+"/"), Data: data})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no chart", dir)
	}
	return loader.LoadFiles(files)
}

// values merges what the release sets, in the engine's order: the chart's
// value files, the release's values, then --set, --set-string, --set-file.
func (r *Release) values(chrt *chart.Chart) (map[string]any, error) {
	out := map[string]any{}
	for _, f := range r.ChartValueFiles {
		name := path.Clean(f)
		var data []byte
		for _, file := range chrt.Raw {
			if file.Name == name {
				data = file.Data
			}
		}
		if data == nil {
			return nil, fmt.Errorf("values file %s: not found in chart %s", f, chrt.Name())
		}
		v, err := common.ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		out = chartutil.MergeMaps(out, v)
	}
	out = chartutil.MergeMaps(out, deepCopy(r.Values))
	for _, s := range r.Set {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, s := range r.SetString {
		if err := strvals.ParseIntoString(s, out); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	for name, content := range r.SetFile {
		reader := func(rs []rune) (any, error) { return content, nil }
		if err := strvals.ParseIntoFile(name+"=file", out, reader); err != nil {
			return nil, fmt.Errorf("failed parsing --set-file data: %w", err)
		}
	}
	return out, nil
}

// deepCopy copies a values tree: Helm's coalescing writes into the maps it
// is given, and a release's values may be shared by several renders.
func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopy(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
