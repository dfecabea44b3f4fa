package pipeline

import (
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/helm"
)

// helmTarget is one Helm release a run renders: a HelmRelease found in a
// Flux target's render, or an Argo CD Application's Helm source. scopes are
// the cluster scopes (the folders of the entry points) that install it.
type helmTarget struct {
	rel    *helm.Release
	scopes []string
	err    error // the release could not be resolved
	ix     *index.Index
}

// helmRead is one Helm release read from a HelmRelease or an Application,
// in a scope (the folder of the entry point that installs it).
type helmRead struct {
	h     *helmTarget
	scope string
	do    func() (*helm.Release, error)
	orNil func() *helm.Release
}

// readAll reads the releases on GOMAXPROCS workers.
func readAll(reads []*helmRead) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, r := range reads {
		g.Go(func() error {
			rel, err := r.do()
			if rel == nil {
				rel = r.orNil()
			}
			r.h = &helmTarget{rel: rel, err: err}
			return nil
		})
	}
	_ = g.Wait()
}

// argoReleases reads the releases of the Argo CD Applications' Helm sources
// (argo); entries are the run's other entry points. They need no build, so
// a run reads them, and starts rendering them, while its targets build.
func argoReleases(tree *render.Tree, entries, argo []*render.EntryPoint) []*helmRead {
	urls := thisRepoURLs(append(append([]*render.EntryPoint(nil), entries...), argo...))
	var reads []*helmRead
	for _, e := range argo {
		reads = append(reads, &helmRead{scope: path.Dir(e.File),
			do: func() (*helm.Release, error) {
				data, _ := tree.ReadFile(e.File)
				return helm.FromApplication(tree, e, func(u string) bool { return urls[normalizeURL(u)] }, data)
			},
			orNil: func() *helm.Release { return &helm.Release{Entry: e, VersionLine: e.Line} }})
	}
	readAll(reads)
	return reads
}

// helmReleases lists the Helm releases of a run: those of the HelmReleases
// that the rendered Flux entry point targets hold, then those of the Argo CD
// Applications' Helm sources (argo, read by argoReleases), one per release
// (file#name and what it renders), each with the scopes that install it.
// Each HelmRelease is read on GOMAXPROCS workers, then listed in order.
func helmReleases(tree *render.Tree, targets []render.Target, indexes []*index.Index, argo []*helmRead, hidden map[string]bool) []*helmTarget {
	var reads []*helmRead
	for i, tg := range targets {
		ix := indexes[i]
		if ix == nil || tg.Kind != render.Flux || tg.Entry == nil || hidden[tg.ID()] {
			continue
		}
		for _, o := range ix.GroupKind("helm.toolkit.fluxcd.io", "HelmRelease") {
			cluster := tg.Entry.Cluster
			var line int
			reads = append(reads, &helmRead{scope: path.Dir(tg.Entry.File),
				do: func() (*helm.Release, error) {
					// Not ix.Line: the checks read this index concurrently.
					data, _ := tree.ReadFile(o.Source)
					line = tree.Memo(o.Source, "document line of "+o.Kind+" "+o.Name, func() any {
						return helm.DocumentLine(data, o.Kind, o.Name)
					}).(int)
					return helm.FromHelmRelease(o.Content, o.Source, line, cluster, objects{ix}, data)
				},
				orNil: func() *helm.Release {
					return &helm.Release{Entry: &render.EntryPoint{Engine: render.FluxHelm, File: o.Source, Line: line, Kind: "HelmRelease", Namespace: o.Namespace, Name: o.Name}, VersionLine: line}
				}})
		}
	}
	readAll(reads)

	var out []*helmTarget
	byKey := map[string]*helmTarget{}
	for _, r := range append(reads, argo...) {
		h := r.h
		k := h.rel.Entry.ID() + "\x00" + h.rel.Key()
		if h.err != nil || h.rel.Problem != "" {
			k = h.rel.Entry.ID() + "\x00problem"
		}
		if prev, ok := byKey[k]; ok {
			if !contains(prev.scopes, r.scope) {
				prev.scopes = append(prev.scopes, r.scope)
			}
			continue
		}
		// A fresh helmTarget: argo's reads are shared with the renders
		// started early, and scopes are this listing's.
		h = &helmTarget{rel: h.rel, err: h.err, scopes: []string{r.scope}}
		byKey[k] = h
		out = append(out, h)
	}
	return out
}

// thisRepoURLs are the URLs the entry points give this repository: Argo
// CD path sources' repoURL (GO003 keeps them one).
func thisRepoURLs(entries []*render.EntryPoint) map[string]bool {
	out := map[string]bool{}
	for _, e := range entries {
		if e.Engine != render.ArgoCD && e.Engine != render.ArgoHelm {
			continue
		}
		spec, _ := e.Object["spec"].(map[string]any)
		var sources []any
		if s, ok := spec["source"].(map[string]any); ok {
			sources = append(sources, s)
		}
		if s, ok := spec["sources"].([]any); ok {
			sources = append(sources, s...)
		}
		for _, s := range sources {
			m, _ := s.(map[string]any)
			if _, chart := m["chart"]; chart {
				continue
			}
			if _, p := m["path"]; p {
				if u, ok := m["repoURL"].(string); ok {
					out[normalizeURL(u)] = true
				}
			}
		}
	}
	return out
}

func normalizeURL(u string) string {
	u = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(u), "/"), ".git"))
	return u
}

// objects finds the objects a Flux target rendered, for a HelmRelease's
// HelmRepository and valuesFrom.
type objects struct{ ix *index.Index }

func (o objects) Find(kind, namespace, name string) map[string]any {
	for _, obj := range o.ix.Objects {
		if obj.Kind == kind && obj.Namespace == namespace && obj.Name == name {
			return obj.Content
		}
	}
	return nil
}

// helmRenders renders each distinct release (Key) once, whichever asks
// first: the renders of Argo CD's Helm sources start while the targets
// build, and renderHelm asks for every release.
type helmRenders struct {
	tree *render.Tree
	rd   *helm.Renderer
	jobs sync.Map // Key -> func() (*render.Result, error), from sync.OnceValues
}

func newHelmRenders(tree *render.Tree, charts helm.ChartSource) *helmRenders {
	return &helmRenders{tree: tree, rd: &helm.Renderer{Charts: charts}}
}

// render returns the render of rel's Key, rendering it now unless another
// release of that Key has been or is being rendered. The result's target is
// that of the release that rendered it.
func (hr *helmRenders) render(rel *helm.Release) (*render.Result, error) {
	job, _ := hr.jobs.LoadOrStore(rel.Key(), sync.OnceValues(func() (*render.Result, error) { return hr.rd.Render(hr.tree, rel) }))
	return job.(func() (*render.Result, error))()
}

// start renders, one after the other, the releases reads resolved.
func (hr *helmRenders) start(reads []*helmRead) {
	for _, r := range reads {
		if r.h.err == nil && r.h.rel.Problem == "" {
			_, _ = hr.render(r.h.rel)
		}
	}
}

// renderHelm renders each release, each distinct render once (Key), on
// GOMAXPROCS workers, and returns the findings about the releases
// themselves: not cached (HLM001), does not render (HLM002), another Istio
// (HLM003), options not applied (HLM004).
func renderHelm(hts []*helmTarget, renders *helmRenders) []check.Finding {
	type job struct {
		res *render.Result
		err error
	}
	byKey := map[string]*job{}
	var keys []string
	first := map[string]*helmTarget{}
	for _, h := range hts {
		if h.err != nil || h.rel.Problem != "" {
			continue
		}
		k := h.rel.Key()
		if _, ok := byKey[k]; !ok {
			byKey[k] = &job{}
			keys = append(keys, k)
			first[k] = h
		}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, k := range keys {
		g.Go(func() error {
			j := byKey[k]
			j.res, j.err = renders.render(first[k].rel)
			return nil
		})
	}
	_ = g.Wait()

	var out []check.Finding
	origin := map[string]*index.Index{}
	for _, h := range hts {
		rel := h.rel
		switch {
		case h.err != nil:
			out = append(out, releaseFinding(check.HelmRenderFailure, rel, rel.Entry.Line, "%s", h.err.Error()))
			continue
		case rel.Problem != "":
			out = append(out, releaseFinding(check.HelmRenderFailure, rel, rel.Entry.Line, "%s", rel.Problem))
			continue
		}
		if rel.IstioSubstituted() {
			out = append(out, releaseFinding(check.OneIstio, rel, rel.VersionLine,
				"installs Istio's %s chart %s, but the validator runs the code of Istio %s (istio.io/istio's VERSION, whose charts it embeds): two Istio releases; pin %s.x (%s.0) and move the module with it in one change. Checked with Istio %s's %s chart in its place",
				rel.Chart, rel.Version, helm.IstioVersion(), helm.IstioVersion(), helm.IstioVersion(), helm.IstioVersion(), rel.Chart))
		}
		for _, opt := range rel.Ignored {
			out = append(out, releaseFinding(check.HelmNotApplied, rel, rel.Entry.Line, "not checked: %s is not applied by the validator; the objects are checked as the chart renders them without it", opt))
		}
		j := byKey[rel.Key()]
		if j.err != nil {
			if errors.Is(j.err, helm.ErrNotCached) {
				out = append(out, releaseFinding(check.ChartNotCached, rel, rel.Entry.Line,
					"not checked: chart %s %s from %s is not cached; run make charts", rel.Chart, rel.Version, rel.RepoURL))
				continue
			}
			msg := j.err.Error()
			var re *helm.RenderError
			if errors.As(j.err, &re) {
				msg = fmt.Sprintf("chart %s does not render: %v", chartName(rel), re.Err)
			}
			out = append(out, releaseFinding(check.HelmRenderFailure, rel, rel.Entry.Line, "%s", msg))
			continue
		}
		if o, ok := origin[rel.Key()]; ok {
			h.ix = o.Share(j.res.WithTarget(rel.Target()))
			continue
		}
		res := j.res
		if res.Target.ID() != rel.Target().ID() {
			res = res.WithTarget(rel.Target())
		}
		h.ix = index.New(res)
		origin[rel.Key()] = h.ix
	}
	return out
}

func chartName(rel *helm.Release) string {
	if rel.LocalPath != "" {
		return rel.LocalPath
	}
	return rel.Chart + " " + rel.Version
}

// releaseFinding is a finding about a release, at a line of its
// HelmRelease or Application.
func releaseFinding(c *check.Check, rel *helm.Release, line int, format string, args ...any) check.Finding {
	e := rel.Entry
	return check.Finding{Code: c.Code, Severity: c.Severity, Target: e.ID(), File: e.File, Line: line,
		Resource: e.Kind + " " + e.Namespace + "/" + e.Name, Message: strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")}
}

// helmByScope maps each cluster scope to the indexes of its rendered Helm
// releases, in release order.
func helmByScope(hts []*helmTarget) map[string][]*index.Index {
	out := map[string][]*index.Index{}
	for _, h := range hts {
		if h.ix == nil {
			continue
		}
		for _, s := range h.scopes {
			out[s] = append(out[s], h.ix)
		}
	}
	return out
}

// isHelmDir reports whether a target's Dir is a Helm release's: the file
// of its HelmRelease or Application, where other targets have directories.
func isHelmDir(dir string) bool {
	return strings.HasSuffix(dir, ".yaml") || strings.HasSuffix(dir, ".yml")
}

// derivePlatforms derives, for each cluster scope that installs Helm
// releases, the platform those releases install (mesh.DerivePlatform:
// gateways, injection webhooks, MeshConfig), over declared (platform.yaml or
// Istio's default profile). Scopes whose releases derive the same platform,
// declared in the same files, share one DerivedPlatform. The second map
// gives each DerivedPlatform the *mesh.Platform istiod and the analyzers are
// asked about: one per content, whichever file declares each gateway.
func derivePlatforms(hts []*helmTarget, declared *mesh.Platform, namespaces map[string]map[string]map[string]string) (map[string]*check.DerivedPlatform, map[*check.DerivedPlatform]*mesh.Platform) {
	byScope := map[string][]mesh.Release{}
	var scopes []string
	for _, h := range hts {
		if h.ix == nil {
			continue
		}
		e := h.rel.Entry
		objs := make([]map[string]any, 0, len(h.ix.Objects))
		for _, o := range h.ix.Objects {
			objs = append(objs, o.Content)
		}
		ns := h.rel.ObjectNamespace
		if ns == "" {
			ns = h.rel.Namespace
		}
		r := mesh.Release{Name: e.String(), File: e.File, Line: e.Line, Namespace: ns, Objects: objs}
		for _, s := range h.scopes {
			if _, ok := byScope[s]; !ok {
				scopes = append(scopes, s)
			}
			byScope[s] = append(byScope[s], r)
		}
	}
	// Each scope's platform is derived on every core (DerivePlatform only
	// reads its releases and declared), then they are told apart in order.
	type derived struct {
		p   *mesh.Platform
		dis []mesh.Disagreement
	}
	all := make([]derived, len(scopes))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, s := range scopes {
		g.Go(func() error {
			all[i].p, all[i].dis = mesh.DerivePlatform(byScope[s], declared)
			return nil
		})
	}
	_ = g.Wait()
	out := map[string]*check.DerivedPlatform{}
	seen := map[string]*check.DerivedPlatform{}
	content := map[string]*mesh.Platform{}
	asked := map[*check.DerivedPlatform]*mesh.Platform{}
	for i, s := range scopes {
		p, dis := all[i].p, all[i].dis
		var gws []string
		for _, g := range p.IngressGateways {
			gws = append(gws, fmt.Sprintf("%s|%v|%v", g, g.Labels, g.Ports))
		}
		what := fmt.Sprintf("%v|%v|%+v|%s|%s", gws, p.Revisions, p.Webhooks, p.MeshYAML, p.RootNamespace())
		key := fmt.Sprintf("%s|%+v|%v|%v", what, p.IngressGateways, dis, namespaces[s])
		d, ok := seen[key]
		if !ok {
			d = &check.DerivedPlatform{Platform: p, Disagreements: dis, Namespaces: namespaces[s]}
			seen[key] = d
		}
		out[s] = d
		if _, ok := content[what]; !ok {
			content[what] = p
		}
		asked[d] = content[what]
	}
	return out, asked
}

// scopeNamespaces returns, per cluster scope, the labels of each namespace
// the scope's entry points create (check.DerivedPlatform.Namespaces): the
// Namespace objects its targets and releases render, else a namespace the
// engine creates on its own, with no labels but those it is given: Argo CD's
// syncOptions CreateNamespace=true (spec.syncPolicy.managedNamespaceMetadata
// labels it) and helm-controller's spec.install.createNamespace.
func scopeNamespaces(targets []render.Target, indexes []*index.Index, scopeOf func(render.Target) string, entries []*render.EntryPoint, hts []*helmTarget) map[string]map[string]map[string]string {
	out := map[string]map[string]map[string]string{}
	put := func(scope, ns string, labels map[string]string, declared bool) {
		if scope == "" || ns == "" {
			return
		}
		if out[scope] == nil {
			out[scope] = map[string]map[string]string{}
		}
		if _, ok := out[scope][ns]; ok && !declared {
			return
		}
		if labels == nil {
			labels = map[string]string{}
		}
		out[scope][ns] = labels
	}
	for _, e := range entries {
		if e.Engine != render.ArgoCD && e.Engine != render.ArgoHelm {
			continue
		}
		spec, _ := e.Object["spec"].(map[string]any)
		sync, _ := spec["syncPolicy"].(map[string]any)
		options, _ := sync["syncOptions"].([]any)
		if !slices.Contains(options, any("CreateNamespace=true")) {
			continue
		}
		dest, _ := spec["destination"].(map[string]any)
		ns, _ := dest["namespace"].(string)
		managed, _ := sync["managedNamespaceMetadata"].(map[string]any)
		labels := map[string]string{}
		if l, ok := managed["labels"].(map[string]any); ok {
			for k, v := range l {
				if s, ok := v.(string); ok {
					labels[k] = s
				}
			}
		}
		put(path.Dir(e.File), ns, labels, false)
	}
	for _, h := range hts {
		if h.rel.Entry.Engine != render.FluxHelm {
			continue
		}
		spec, _ := h.rel.Entry.Object["spec"].(map[string]any)
		install, _ := spec["install"].(map[string]any)
		if create, _ := install["createNamespace"].(bool); create {
			for _, s := range h.scopes {
				put(s, h.rel.Namespace, nil, false)
			}
		}
	}
	for i, tg := range targets {
		if indexes[i] == nil {
			continue
		}
		for _, o := range indexes[i].Kind("Namespace") {
			put(scopeOf(tg), o.Name, o.Labels(), true)
		}
	}
	for _, h := range hts {
		if h.ix == nil {
			continue
		}
		for _, o := range h.ix.Kind("Namespace") {
			for _, s := range h.scopes {
				put(s, o.Name, o.Labels(), true)
			}
		}
	}
	return out
}
