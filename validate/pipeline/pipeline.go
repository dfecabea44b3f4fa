// Package pipeline runs the validator: load the repository, render every
// target, index it, run the checks, and collect the findings.
package pipeline

import (
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"sort"
	"sync"

	"meshops.dev/meshops/validate/analyze"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/gatewayapi"
	"meshops.dev/meshops/validate/gitops"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/engine"
	"meshops.dev/meshops/validate/render/helm"
	"meshops.dev/meshops/validate/render/kustomize"
	"meshops.dev/meshops/validate/settings"
)

// Options configure a run.
type Options struct {
	// RootNamespace is Istio's root namespace; "" takes platform.yaml's
	// meshConfig.rootNamespace (istio-system by default).
	RootNamespace string
	// Mesh is which targets istiod's code (validate/mesh) is asked about:
	// MeshSynced (the default, ""), MeshAll or MeshOff.
	Mesh string
	// Checks to run; nil means check.AllWithIstio(): meshops' checks and
	// Istio's analyzers.
	Checks []*check.Check
	// Charts finds the charts of Helm releases that are neither Istio's
	// (embedded) nor in this repository; nil holds none (each such release
	// is reported HLM001, not checked).
	Charts helm.ChartSource
}

// Result is what a run found.
type Result struct {
	// Targets is every target discovered; Rendered those that rendered.
	// Each target of Targets missing from Rendered has a finding that names
	// it (Explains) and says why.
	Targets  []render.Target
	Rendered []render.Target
	Findings []check.Finding
	// NotChecked lists, per target, the kinds no schema covers.
	NotChecked []check.Unchecked
	// Off are the checks validate.yaml turns off, and Silenced how many
	// findings they silenced.
	Off      []settings.Off
	Silenced int
	// helm maps each cluster scope to its rendered Helm releases.
	helm map[string][]*index.Index
}

// HelmRender returns the render of the Helm release target id names
// (render.Target.ID: "file#name"), nil when it did not render.
func (r *Result) HelmRender(id string) *index.Index {
	for _, ixs := range r.helm {
		for _, ix := range ixs {
			if ix.Target.ID() == id {
				return ix
			}
		}
	}
	return nil
}

// HelmObjects returns the rendered objects of the Helm releases (Flux
// HelmReleases, Argo CD Helm sources) that one cluster scope installs, in
// release order. A scope is the folder of the entry points that install
// them: the folder of the Flux Kustomization whose render holds the
// HelmRelease (clusters/dev/flux), or of the Argo CD Application
// (clusters/dev/argocd). A release that did not render (HLM001, HLM002) has
// no objects here.
func (r *Result) HelmObjects(scope string) []*index.Object {
	var out []*index.Object
	for _, ix := range r.helm[scope] {
		out = append(out, ix.Objects...)
	}
	return out
}

// HelmScopes lists the cluster scopes that install Helm releases, sorted.
func (r *Result) HelmScopes() []string {
	out := make([]string, 0, len(r.helm))
	for s := range r.helm {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// RenderFailed reports whether a target could not be rendered (or a check
// crashed): the run's verdict is incomplete, and the validator exits 2.
func (r *Result) RenderFailed() bool {
	if len(r.Rendered) < len(r.Targets) {
		return true
	}
	for _, f := range r.Findings {
		if f.Code == check.InternalError.Code {
			return true
		}
	}
	return false
}

// Errors reports whether any finding is at error level.
func (r *Result) Errors() bool {
	for _, f := range r.Findings {
		if f.Severity == check.Error {
			return true
		}
	}
	return false
}

// Run validates the repository at root. The error is non-nil when the
// repository could not be read or holds no target; a target that does not
// render is a finding (RN001, RN002) and the others are still checked.
func Run(root string, opts Options) (*Result, error) {
	tree, err := render.LoadDir(root)
	if err != nil {
		return nil, err
	}
	return RunTree(tree, opts)
}

// scopeChecks name the release of the target's own cluster scope (PLT001,
// PLT004): a target that shares another's render and platform content still
// runs them, since the two scopes' releases may be declared in different
// files.
var scopeChecks = map[string]bool{check.GatewayReleaseUnselected.Code: true, check.GatewayReleaseNotInjected.Code: true}

// RunTree validates an already loaded tree, using every core:
//
//  1. prepare each target in turn (checks its sources; writes the in-memory
//     kustomizations its build needs), after Flux's Generator has run for
//     every Flux entry point on every core;
//  2. build the targets on GOMAXPROCS workers, which only read the tree; when
//     a kustomization sets a custom OpenAPI schema, which Kustomize keeps in
//     process-wide state (kustomize issue #3659), on one worker;
//  3. meanwhile one goroutine renders Argo CD's Helm sources, which need no
//     build, and another compiles Istio's validation and checks each target
//     as istiod's answer about it arrives; then the HelmReleases the builds
//     hold render, the platforms are derived, and istiod (on four workers
//     a core) and Istio's analyzers (on GOMAXPROCS more) are asked about
//     each target;
//  4. run the repository-wide checks, sort the findings.
func RunTree(tree *render.Tree, opts Options) (*Result, error) {
	if err := check.CatalogueError(); err != nil {
		return nil, err
	}
	discovered, err := render.Discover(tree)
	if err != nil {
		return nil, err
	}
	entries, err := render.EntryPoints(tree)
	if err != nil {
		return nil, err
	}
	helmEntries, err := render.HelmEntryPoints(tree)
	if err != nil {
		return nil, err
	}
	plan, err := planTargets(tree, discovered, entries)
	if err != nil {
		return nil, err
	}
	defer plan.close()
	targets := plan.targets
	checks := opts.Checks
	if checks == nil {
		checks = check.AllWithIstio()
	}
	platform, err := mesh.LoadPlatform(tree)
	if err != nil {
		return nil, err
	}
	switches, err := loadSettings(tree)
	if err != nil {
		return nil, err
	}
	env := &check.Env{RootNamespace: opts.RootNamespace, Tree: tree, Analyzer: analyze.New(platform)}
	if env.RootNamespace == "" {
		env.RootNamespace = platform.RootNamespace()
	}
	if opts.Mesh != MeshOff {
		env.Mesh = mesh.NewSession(platform)
		synced := syncedDirs(entries)
		all := opts.Mesh == MeshAll || len(synced) == 0
		// A chart's objects (a Helm target's Dir is its release's file) are
		// not asked about: Istio's own charts install istiod itself.
		env.Mesh.Only = func(dir string) bool { return (all || synced[dir]) && !isHelmDir(dir) }
	}
	repo := &check.Repo{Tree: tree, Failed: map[string]error{}, Entries: entries}

	remote := check.PlatformWarnings(platform)
	prepared := make([]bool, len(targets))
	workers := runtime.GOMAXPROCS(0)
	for i, tg := range targets {
		if tg.Entry != nil || tg.Without != "" { // prepared by planTargets
			prepared[i] = true
			if tg.CustomSchema() {
				workers = 1
			}
			continue
		}
		custom, err := kustomize.Prepare(tree, tg)
		if err != nil {
			remote = append(remote, renderFinding(tree, tg, err))
			repo.Failed[tg.Dir] = err
			continue
		}
		prepared[i] = true
		if custom {
			workers = 1
		}
	}

	// Check each target as its build arrives.
	rendered := make(chan *index.Index, len(targets))
	var (
		checked  sync.WaitGroup
		findings []check.Finding
		loadErr  error
	)
	checked.Add(1)
	go func() {
		defer checked.Done()
		env.Istio, loadErr = istio.New()
		if loadErr == nil {
			env.GitOps, loadErr = gitops.New()
		}
		if loadErr == nil {
			env.GatewayAPI, loadErr = gatewayapi.New()
		}
		// A target that shares another's render (index.Share: a plain Flux
		// entry point beside a plain Argo CD one of the same path) gets that
		// target's findings: the checks read its resources and their
		// sources, which are the same objects, and neither entry point has
		// an option for the checks to look at. Shared renders arrive last.
		byOrigin := map[*index.Index][]check.Finding{}
		for ix := range rendered {
			if loadErr != nil {
				continue
			}
			// On the same platform (the same content: the releases of two
			// scopes may differ only in where they are declared), except for
			// PLT001, which names the release of the target's own scope.
			if origin := ix.Origin(); origin != ix && env.Mesh.PlatformFor(origin) == env.Mesh.PlatformFor(ix) {
				if of, ok := byOrigin[origin]; ok {
					for _, f := range of {
						if scopeChecks[f.Code] {
							continue
						}
						if f.Target == origin.Target.ID() {
							f.Target = ix.Target.ID()
						}
						findings = append(findings, f)
					}
					for _, c := range checks {
						if scopeChecks[c.Code] {
							findings = append(findings, c.Run(ix, env)...)
						}
					}
					continue
				}
			}
			var own []check.Finding
			for _, c := range checks {
				own = append(own, c.Run(ix, env)...)
			}
			if plan.hidden[ix.Target.ID()] {
				for i := range own { // a check may name the directory: the baseline's stay its own
					own[i].Target = ix.Target.ID()
				}
			}
			byOrigin[ix] = own
			findings = append(findings, own...)
		}
	}()

	// Argo CD's Helm sources need no build: read them, and render them on
	// one more goroutine, while the targets build (the tree is no longer
	// written).
	renders := newHelmRenders(tree, opts.Charts)
	argoRead := make(chan []*helmRead, 1)
	var rendering sync.WaitGroup
	rendering.Add(1)
	go func() {
		defer rendering.Done()
		reads := argoReleases(tree, entries, helmEntries)
		argoRead <- reads
		renders.start(reads)
	}()

	indexes := make([]*index.Index, len(targets))
	errs := make([]error, len(targets))
	next := make(chan int)
	var built sync.WaitGroup
	for w := 0; w < workers; w++ {
		built.Add(1)
		go func() {
			defer built.Done()
			for i := range next {
				res, err := engine.Build(tree, targets[i])
				if err != nil {
					errs[i] = err
					continue
				}
				indexes[i] = index.New(res)
			}
		}()
	}
	for i := range targets {
		if _, deferred := plan.shareWith[i]; prepared[i] && !deferred {
			next <- i
		}
	}
	close(next)
	built.Wait()
	// A plain Flux entry point whose path a plain Argo CD one also applies
	// renders the same resources: reuse that build, or build it now.
	shared := map[int]bool{}
	for i, j := range plan.shareWith {
		if indexes[j] != nil {
			if res, ok := indexes[j].Render().Share(targets[i]); ok {
				indexes[i] = indexes[j].Share(res)
				shared[i] = true
				continue
			}
		}
		res, err := engine.Build(tree, targets[i])
		if err != nil {
			errs[i] = err
			continue
		}
		indexes[i] = index.New(res)
	}
	// The Helm releases the rendered Flux targets and the Argo CD Helm
	// sources install: rendered now, checked as they arrive.
	hts := helmReleases(tree, targets, indexes, <-argoRead, plan.hidden)
	helmFindings := renderHelm(hts, renders)
	rendering.Wait()
	plan.helm = map[string]bool{}
	for _, h := range hts {
		plan.helm[h.rel.Entry.ID()] = true
	}
	// The platform each target lands on is the one its cluster's Istio
	// releases install (mesh.DerivePlatform over the Helm renders of the
	// entry point's folder), else platform.yaml's (Istio's default profile).
	scopeOf := func(tg render.Target) string {
		if tg.Entry == nil || tg.Kind.IsHelm() {
			return ""
		}
		return path.Dir(tg.Entry.File)
	}
	namespaces := scopeNamespaces(targets, indexes, scopeOf, append(append([]*render.EntryPoint(nil), entries...), helmEntries...), hts)
	derived, meshPlatforms := derivePlatforms(hts, platform, namespaces)
	env.Platforms = map[string]*check.DerivedPlatform{}
	for _, tg := range targets {
		if d := derived[scopeOf(tg)]; d != nil {
			env.Platforms[tg.ID()] = d
		}
	}
	// istiod and Istio's analyzers are asked about the platform's content:
	// one *mesh.Platform per content (meshPlatforms), whatever file declares
	// each gateway, so that Flux and Argo CD entry points of the same path
	// still share one answer.
	analyzers := map[*mesh.Platform]*analyze.Analyzer{}
	for _, p := range meshPlatforms {
		if _, ok := analyzers[p]; !ok && env.Analyzer != nil {
			analyzers[p] = analyze.New(p)
		}
	}
	platformOf := func(ix *index.Index) *mesh.Platform {
		if d := env.Platforms[ix.Target.ID()]; d != nil {
			return meshPlatforms[d]
		}
		return nil
	}
	env.Analyzers = func(ix *index.Index) *analyze.Analyzer { return analyzers[platformOf(ix)] }
	if env.Mesh != nil {
		env.Mesh.PlatformOf = platformOf
	}
	// Ask istiod about each target on every core, then check it: the
	// targets that share another's render last, after their origin. Four
	// workers a core: istiod's fake discovery server spends most of its
	// start asleep, polling its informers with a backoff of 1 ms doubling
	// to 100 ms (kubelib.WaitForCacheSync in pilot/test/xds's
	// NewFakeDiscoveryServer), about 40 ms a target against 12 ms of CPU (N = 100 in
	// make bench: 4.5 to 5.4 s with one worker a core, 3.4 to 4.2 s with four,
	// 4.1 to 4.4 s with eight).
	// Istio's analyzers, which never sleep, run on workers of their own,
	// GOMAXPROCS of them, to use the CPU the sleeping servers leave.
	next = make(chan int)
	analyze := make(chan int, len(targets))
	analyzed := make([]chan struct{}, len(targets))
	for i := range targets {
		if indexes[i] != nil && !shared[i] {
			analyzed[i] = make(chan struct{})
			analyze <- i
		}
	}
	close(analyze)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		go func() {
			for i := range analyze {
				env.AnalyzerFor(indexes[i]).Prepare(indexes[i])
				close(analyzed[i])
			}
		}()
	}
	var answered sync.WaitGroup
	for w := 0; w < 4*runtime.GOMAXPROCS(0); w++ {
		answered.Add(1)
		go func() {
			defer answered.Done()
			for i := range next {
				_, _ = env.Mesh.Answer(indexes[i]) // the checks read the answer
				<-analyzed[i]                      // and Istio's analyzers'
				rendered <- indexes[i]
			}
		}()
	}
	for i := range targets {
		if indexes[i] != nil && !shared[i] {
			next <- i
		}
	}
	close(next)
	answered.Wait()
	for i := range targets {
		if indexes[i] != nil && shared[i] {
			_, _ = env.Mesh.Answer(indexes[i])
			env.AnalyzerFor(indexes[i]).Prepare(indexes[i])
			rendered <- indexes[i]
		}
	}
	for _, h := range hts {
		if h.ix != nil {
			rendered <- h.ix
		}
	}
	close(rendered)
	checked.Wait()

	for i, err := range errs {
		if err == nil {
			continue
		}
		if e := targets[i].Entry; e != nil {
			if f, broken := plan.pathFailure(tree, targets[i].Dir); broken {
				repo.Failed[e.ID()] = err
				remote = append(remote, f...)
				continue
			}
			// The entry point's engine would fail: a finding on it.
			msg := err.Error()
			var re *render.Error
			if errors.As(err, &re) {
				msg = re.Err.Error()
			}
			plan.failed = append(plan.failed, entryFailure(e, msg))
			repo.Failed[e.ID()] = err
			continue
		}
		if plan.hidden[targets[i].ID()] {
			continue
		}
		remote = append(remote, renderFinding(tree, targets[i], err))
		repo.Failed[targets[i].Dir] = err
	}
	if loadErr != nil {
		return nil, fmt.Errorf("load CRD validation: %w", loadErr)
	}
	// The hidden baselines are the validator's own means, not targets of
	// the repository: a baseline is never reported, rendered or not.
	result := &Result{helm: helmByScope(hts)}
	for _, tg := range targets {
		if !plan.hidden[tg.ID()] {
			result.Targets = append(result.Targets, tg)
		}
	}
	repo.Helm = result.helm
	findings = append(findings, helmFindings...)
	if pe := platform.VersionConflict; pe != nil {
		c := check.PlatformIstioVersion
		findings = append(findings, check.Finding{Code: c.Code, Severity: c.Severity, Target: pe.File, File: pe.File, Line: pe.Line, Message: pe.Msg})
	}
	for i, ix := range indexes {
		if ix != nil && !plan.hidden[ix.Target.ID()] {
			repo.Targets = append(repo.Targets, ix)
			result.Rendered = append(result.Rendered, targets[i])
		}
	}
	baselineBuilt := map[string]bool{}
	for _, ix := range indexes {
		if ix != nil {
			baselineBuilt[ix.Target.ID()] = true
		}
	}
	findings = blameTransformers(plan, findings, baselineBuilt)
	// The Helm releases that rendered are targets the summary names; those
	// that did not are findings (HLM001, HLM002), never a stop.
	for _, h := range hts {
		if h.ix != nil {
			result.Targets = append(result.Targets, h.ix.Target)
			result.Rendered = append(result.Rendered, h.ix.Target)
		}
	}
	findings = attribute(plan, findings)
	findings = append(findings, remote...)
	findings = append(findings, plan.failed...)
	for _, f := range plan.failed {
		repo.Failed[f.Target] = errors.New(f.Message)
	}
	for _, c := range checks {
		findings = append(findings, c.RunRepo(repo, env)...)
	}
	findings = byDirectory(plan, findings)
	findings = append(findings, unexplained(tree, result, findings)...)
	result.Findings = superseded(oneFinding(merge(findings)))
	result.NotChecked = check.NotChecked(repo, env)
	result.Off = switches.Off
	kept := result.Findings[:0]
	for _, f := range result.Findings {
		if _, off := switches.Silenced(f.Code, f.File); off {
			result.Silenced++
			continue
		}
		kept = append(kept, f)
	}
	result.Findings = kept
	check.Sort(result.Findings)
	return result, nil
}

// Explains reports whether f says why tg was not rendered: it is reported
// for tg (its ID or its directory, as byDirectory names it), or it is on tg's
// entry point itself.
func Explains(f check.Finding, tg render.Target) bool {
	for _, t := range f.AllTargets() {
		if t == tg.ID() || t == tg.Dir {
			return true
		}
	}
	e := tg.Entry
	return e != nil && f.File == e.File && f.Resource == e.Kind+" "+e.Namespace+"/"+e.Name
}

// unexplained is the last guard of "no silent target": VAL001 on each
// target that did not render and that no finding explains, which would be
// the validator's own bug (exit 2 with no finding saying why).
func unexplained(tree *render.Tree, res *Result, findings []check.Finding) []check.Finding {
	rendered := map[string]bool{}
	for _, tg := range res.Rendered {
		rendered[tg.ID()] = true
	}
	var out []check.Finding
	for _, tg := range res.Targets {
		if rendered[tg.ID()] || slices.ContainsFunc(findings, func(f check.Finding) bool { return Explains(f, tg) }) {
			continue
		}
		c := check.InternalError
		file := render.KustomizationFile(tree, tg.Dir)
		if tg.Entry != nil {
			file = tg.Entry.File
		}
		out = append(out, check.Finding{Code: c.Code, Severity: c.Severity, Target: tg.ID(), File: file,
			Message: fmt.Sprintf("%s was not rendered and no finding says why: its findings are missing; please report it with the input", tg.ID())})
	}
	return out
}

// loadSettings reads validate.yaml at the repository's root, if there is one.
func loadSettings(tree *render.Tree) (*settings.Settings, error) {
	if !tree.Exists(settings.File) {
		return &settings.Settings{}, nil
	}
	data, err := tree.ReadFile(settings.File)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settings.File, err)
	}
	known := map[string]bool{}
	for _, c := range check.All() {
		known[c.Code] = true
	}
	for _, c := range []*check.Check{check.RemoteReference, check.RenderFailure, check.InternalError} {
		known[c.Code] = true
	}
	return settings.Parse(data, func(code string) bool { return known[code] }, check.InternalError.Code, check.RenderFailure.Code, check.RemoteReference.Code)
}
