// Package pipeline runs the validator: load the repository, render every
// target, index it, run the checks, and collect the findings.
package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/render"
)

// Options configure a run.
type Options struct {
	// RootNamespace is Istio's root namespace.
	RootNamespace string
	// Checks to run; nil means check.All().
	Checks []*check.Check
}

// Result is what a run found.
type Result struct {
	Targets  []render.Target
	Findings []check.Finding
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
// repository could not be read or a target could not be rendered at all.
//
// Kustomize is not safe for concurrent builds (global OpenAPI state, kustomize
// issue #3659), so targets render one after the other on this goroutine while
// a second one compiles Istio's CRD schemas and then checks each rendered
// target: rendering and checking overlap on the two cores.
func Run(root string, opts Options) (*Result, error) {
	tree, err := render.LoadDir(root)
	if err != nil {
		return nil, err
	}
	return RunTree(tree, opts)
}

// RunTree validates an already loaded tree.
func RunTree(tree *render.Tree, opts Options) (*Result, error) {
	targets, err := render.Discover(tree)
	if err != nil {
		return nil, err
	}
	checks := opts.Checks
	if checks == nil {
		checks = check.All()
	}
	env := &check.Env{RootNamespace: opts.RootNamespace, Tree: tree}

	rendered := make(chan *index.Index, len(targets))
	var (
		wg       sync.WaitGroup
		findings []check.Finding
		indexes  []*index.Index
		istioErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		env.Istio, istioErr = istio.New()
		for ix := range rendered {
			indexes = append(indexes, ix)
			if istioErr != nil {
				continue
			}
			for _, c := range checks {
				findings = append(findings, c.Run(ix, env)...)
			}
		}
	}()

	repo := &check.Repo{Tree: tree, Failed: map[string]error{}}
	var (
		renderErr error
		remote    []check.Finding
	)
	for _, tg := range targets {
		res, err := render.Render(tree, tg)
		if err != nil {
			if f, ok := remoteFinding(tg, err); ok {
				remote = append(remote, f)
				repo.Failed[tg.Dir] = err
				continue
			}
			renderErr = err
			break
		}
		rendered <- index.New(res)
	}
	close(rendered)
	wg.Wait()
	if renderErr != nil {
		return nil, renderErr
	}
	if istioErr != nil {
		return nil, fmt.Errorf("load Istio validation: %w", istioErr)
	}
	repo.Targets = indexes
	findings = append(findings, remote...)
	for _, c := range checks {
		findings = append(findings, c.RunRepo(repo, env)...)
	}
	check.Sort(findings)
	return &Result{Targets: targets, Findings: findings}, nil
}

// remoteFinding turns a refused remote reference into a finding: the
// repository is readable, one kustomization just reaches for the network.
func remoteFinding(tg render.Target, err error) (check.Finding, bool) {
	var se *render.SourceError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "is a remote reference") {
		return check.Finding{}, false
	}
	c := check.RemoteReference
	return check.Finding{Code: c.Code, Severity: c.Severity, Target: tg.Dir, File: se.File, Message: se.Msg}, true
}
