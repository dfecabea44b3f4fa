// Package pipeline runs the validator: load the repository, render every
// target, index it, run the checks, and collect the findings.
package pipeline

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"meshops.dev/meshops/validate/analyze"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/gitops"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
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
}

// Result is what a run found.
type Result struct {
	// Targets is every target discovered; Rendered those that rendered.
	Targets  []render.Target
	Rendered []render.Target
	Findings []check.Finding
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

// RunTree validates an already loaded tree, using every core:
//
//  1. prepare each target in turn (checks its sources; writes the in-memory
//     kustomizations its build needs);
//  2. build the targets on GOMAXPROCS workers, which only read the tree; when
//     a kustomization sets a custom OpenAPI schema, which Kustomize keeps in
//     process-wide state (kustomize issue #3659), on one worker;
//  3. meanwhile one goroutine compiles Istio's validation and checks each
//     target as its build arrives;
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
	env := &check.Env{RootNamespace: opts.RootNamespace, Tree: tree, Analyzer: analyze.New(platform)}
	if env.RootNamespace == "" {
		env.RootNamespace = platform.RootNamespace()
	}
	if opts.Mesh != MeshOff {
		env.Mesh = mesh.NewSession(platform)
		if synced := syncedDirs(tree); opts.Mesh != MeshAll && len(synced) > 0 {
			env.Mesh.Only = func(dir string) bool { return synced[dir] }
		}
	}
	repo := &check.Repo{Tree: tree, Failed: map[string]error{}, Entries: entries}

	remote := check.PlatformWarnings(platform)
	prepared := make([]bool, len(targets))
	workers := runtime.GOMAXPROCS(0)
	for i, tg := range targets {
		if tg.Entry != nil { // prepared by planTargets
			prepared[i] = true
			if tg.CustomSchema() {
				workers = 1
			}
			continue
		}
		custom, err := render.Prepare(tree, tg)
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
			if origin := ix.Origin(); origin != ix {
				if of, ok := byOrigin[origin]; ok {
					for _, f := range of {
						if f.Target == origin.Target.ID() {
							f.Target = ix.Target.ID()
						}
						findings = append(findings, f)
					}
					continue
				}
			}
			var own []check.Finding
			for _, c := range checks {
				own = append(own, c.Run(ix, env)...)
			}
			byOrigin[ix] = own
			findings = append(findings, own...)
		}
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
				res, err := render.Build(tree, targets[i])
				if err != nil {
					errs[i] = err
					continue
				}
				indexes[i] = index.New(res)
				_, _ = env.Mesh.Answer(indexes[i]) // ask istiod on this worker; the checks read the answer
				env.Analyzer.Prepare(indexes[i])   // and Istio's analyzers
				rendered <- indexes[i]
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
	for i, j := range plan.shareWith {
		if indexes[j] != nil {
			if res, ok := indexes[j].Render().Share(targets[i]); ok {
				indexes[i] = indexes[j].Share(res)
				rendered <- indexes[i]
				continue
			}
		}
		res, err := render.Build(tree, targets[i])
		if err != nil {
			errs[i] = err
			continue
		}
		indexes[i] = index.New(res)
		rendered <- indexes[i]
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
	result := &Result{Targets: targets}
	for i, ix := range indexes {
		if ix != nil && !plan.hidden[ix.Target.ID()] {
			repo.Targets = append(repo.Targets, ix)
			result.Rendered = append(result.Rendered, targets[i])
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
	result.Findings = superseded(oneFinding(merge(findings)))
	check.Sort(result.Findings)
	return result, nil
}
