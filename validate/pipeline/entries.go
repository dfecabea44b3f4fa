package pipeline

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/argocd"
	"meshops.dev/meshops/validate/render/flux"
	"meshops.dev/meshops/validate/render/kustomize"
)

// plan is what a run renders: the overlays and cluster folders Discover
// found, minus the overlays entry points deploy (the entry points are the
// truth for those), plus one target per entry point that applies a
// directory of the repository outside clusters/, and hidden baselines: the
// plain `kustomize build` of an entry point's path, to tell which findings
// its options cause.
type plan struct {
	targets []render.Target
	// hidden marks baseline targets, whose findings are not reported.
	hidden map[string]bool
	// failed are the entry points that cannot be rendered, as GO001 findings.
	failed []check.Finding
	flux   *flux.Sources
	// shareWith maps a plain Flux entry point's target to a plain Argo CD
	// one of the same path, whose build it may reuse (Result.Share).
	shareWith map[int]int
	// plainErr caches the CLI build of a path whose entry point failed.
	plainErr map[string]error
	reported map[string]bool
	// without maps a hidden baseline's ID to the transformer it leaves out
	// of its directory's kustomization; baselines lists them by directory.
	without   map[string]kustomize.Transformer
	baselines map[string][]string
	// helm are the IDs of the Helm release targets (file#name), which
	// findings keep as their target.
	helm map[string]bool
}

// pathFailure tells whether dir, an entry point's path, fails to build on its
// own too (with the Kustomize CLI's rules): then the fault is in the path,
// not in the entry point's options, and the finding is the path's own render
// error (RN00x at the file and line to fix), returned once per path, instead
// of GO001 on every entry point that applies it.
func (p *plan) pathFailure(tree *render.Tree, dir string) ([]check.Finding, bool) {
	if !tree.IsDir(dir) {
		return nil, false // a path that does not exist is the entry point's own fault (GO001)
	}
	if p.plainErr == nil {
		p.plainErr, p.reported = map[string]error{}, map[string]bool{}
	}
	err, ok := p.plainErr[dir]
	if !ok {
		base := render.Target{Kind: render.Overlay, Dir: dir, Generated: render.KustomizationFile(tree, dir) == ""}
		if _, err = kustomize.Prepare(tree, base); err == nil {
			_, err = kustomize.Build(tree, base)
		}
		p.plainErr[dir] = err
	}
	if err == nil {
		return nil, false
	}
	if p.reported[dir] {
		return nil, true
	}
	p.reported[dir] = true
	return []check.Finding{renderFinding(tree, render.Target{Kind: render.Overlay, Dir: dir}, err)}, true
}

func (p *plan) close() {
	if p.flux != nil {
		p.flux.Close()
	}
}

// planTargets prepares every entry point's target (it writes to the tree,
// so it runs before any build) and decides what else to render.
func planTargets(tree *render.Tree, discovered []render.Target, entries []*render.EntryPoint) (*plan, error) {
	p := &plan{hidden: map[string]bool{}}
	deployed := map[string]bool{}
	var entryTargets []render.Target
	prepared := func(e *render.EntryPoint) bool {
		switch {
		case e.Path == "" || e.Path == "clusters" || strings.HasPrefix(e.Path, "clusters/"):
			return false // a cluster folder (flux bootstrap's own Kustomization): rendered as such
		case e.Problem != "":
			return false // GO002 reports the object itself
		case e.Flux != nil && e.Flux.Spec.SourceRef.Kind != "GitRepository":
			return false // an OCIRepository or Bucket: not this repository
		}
		return true
	}
	var fluxEntries []*render.EntryPoint
	for _, e := range entries {
		if e.Engine == render.Flux && prepared(e) {
			fluxEntries = append(fluxEntries, e)
		}
	}
	if len(fluxEntries) > 0 {
		var err error
		if p.flux, err = flux.NewSources(tree); err != nil {
			return nil, err
		}
		// The Generator's part of each Flux entry point, on every core.
		p.flux.Generate(fluxEntries)
	}
	for i, e := range entries {
		if !prepared(e) {
			continue
		}
		// The entry point is the truth for its path, even when it fails
		// (that failure is reported): no standalone render of it.
		deployed[e.Path] = true
		var (
			tg  render.Target
			err error
		)
		switch e.Engine {
		case render.Flux:
			tg, err = p.flux.Prepare(e, i)
		case render.ArgoCD:
			tg, err = argocd.Prepare(tree, e, i)
		}
		if err != nil {
			var re *render.Error
			var se *render.SourceError
			msg := err.Error()
			if errors.As(err, &re) {
				msg = re.Err.Error()
			}
			if errors.As(err, &se) && tg.BuildDir != "" && strings.HasPrefix(se.File, tg.BuildDir+"/") {
				se.File = tg.Dir + strings.TrimPrefix(se.File, tg.BuildDir) // the copy's file is the path's
				msg = se.Error()
			}
			if f, broken := p.pathFailure(tree, e.Path); broken {
				p.failed = append(p.failed, f...)
				continue
			}
			if errors.As(err, &se) && se.Remote {
				c := check.RemoteReference
				p.failed = append(p.failed, check.Finding{Code: c.Code, Severity: c.Severity, Target: e.Path, File: se.File, Message: se.Msg})
			}
			p.failed = append(p.failed, entryFailure(e, msg))
			continue
		}
		entryTargets = append(entryTargets, tg)
	}
	plain := map[string]bool{}
	for _, tg := range discovered {
		// An overlay an entry point applies, or a folder of root entry points
		// that one of them applies (an app-of-apps whose root Application
		// syncs its own folder): the entry point renders it.
		if (tg.Kind == render.Overlay || tg.Kind == render.Cluster) && deployed[tg.Dir] {
			continue
		}
		if tg.Kind == render.Overlay {
			plain[tg.Dir] = true
		}
		p.targets = append(p.targets, tg)
	}
	for _, tg := range entryTargets {
		if !tg.Entry.HasOptions() {
			plain[tg.Dir] = true
		}
	}
	for _, tg := range entryTargets {
		if tg.Entry.HasOptions() && !plain[tg.Dir] {
			plain[tg.Dir] = true
			base := render.Target{Kind: render.Overlay, Dir: tg.Dir, Generated: render.KustomizationFile(tree, tg.Dir) == ""}
			if _, err := kustomize.Prepare(tree, base); err == nil {
				p.targets = append(p.targets, base)
				p.hidden[base.ID()] = true
			}
		}
	}
	p.targets = append(p.targets, entryTargets...)
	p.planBaselines(tree)
	p.shareWith = map[int]int{}
	argo := map[string]int{}
	for i, tg := range p.targets {
		if tg.Kind == render.ArgoCD && !tg.Entry.HasOptions() && !tg.CustomSchema() {
			argo[tg.Dir] = i
		}
	}
	firstFlux := map[string]int{}
	for i, tg := range p.targets {
		if tg.Kind != render.Flux || tg.Entry.HasOptions() || tg.CustomSchema() {
			continue
		}
		if j, ok := argo[tg.Dir]; ok {
			p.shareWith[i] = j
		} else if j, ok := firstFlux[tg.Dir]; ok && p.targets[j].SameSource(tg) {
			p.shareWith[i] = j
		} else if !ok {
			firstFlux[tg.Dir] = i
		}
	}
	return p, nil
}

// entryFailure is GO001 on an entry point that its engine would fail to build.
func entryFailure(e *render.EntryPoint, msg string) check.Finding {
	c := check.EntryPointPaths
	return check.Finding{Code: c.Code, Severity: c.Severity, Target: e.ID(), File: e.File, Line: e.Line, Resource: e.Kind + " " + e.Namespace + "/" + e.Name,
		Message: strings.Join(strings.Fields(fmt.Sprintf("%s would fail to build %s %q: %s", engineName(e), e.PathField, e.Path, msg)), " ")}
}

func engineName(e *render.EntryPoint) string {
	if e.Engine == render.Flux {
		return "Flux"
	}
	return "Argo CD"
}

// attribute hands the findings an entry point's options cause to the entry
// point: a finding of its target that the plain build of its path does not
// have (same code, file and kind) names the entry point's file and line.
// Baseline findings are dropped.
func attribute(p *plan, findings []check.Finding) []check.Finding {
	type key struct{ code, file, kind string }
	keyOf := func(f check.Finding) key {
		kind, _, _ := strings.Cut(f.Resource, " ")
		return key{f.Code, f.File, kind}
	}
	baseline := map[string]map[key]bool{}
	for _, f := range findings {
		// A literal ${VAR} in a plain build is no baseline for the build
		// that substitutes it.
		if (p.hidden[f.Target] || isPlainTarget(p, f.Target)) && !strings.Contains(f.Message, "${") {
			if baseline[dirOf(p, f.Target)] == nil {
				baseline[dirOf(p, f.Target)] = map[key]bool{}
			}
			baseline[dirOf(p, f.Target)][keyOf(f)] = true
		}
	}
	entry := map[string]*render.EntryPoint{}
	for _, tg := range p.targets {
		if tg.Entry != nil && tg.Entry.HasOptions() {
			entry[tg.ID()] = tg.Entry
		}
	}
	out := findings[:0]
	for _, f := range findings {
		if p.hidden[f.Target] {
			continue
		}
		if e := entry[f.Target]; e != nil && f.File != e.File && !baseline[e.Path][keyOf(f)] {
			f.Message += fmt.Sprintf(" (caused by %s's options in %s)", e.Kind+" "+e.Name, e.File)
			f.File, f.Line = e.File, e.Line
		}
		out = append(out, f)
	}
	return out
}

func isPlainTarget(p *plan, id string) bool {
	for _, tg := range p.targets {
		if tg.ID() == id {
			return tg.Entry == nil || !tg.Entry.HasOptions()
		}
	}
	return false
}

func dirOf(p *plan, id string) string {
	for _, tg := range p.targets {
		if tg.ID() == id {
			return tg.Dir
		}
	}
	return id
}

// byDirectory names a finding found in an entry point's render by the
// directory rendered (overlays/dev), as for an overlay, unless the finding is
// on the entry point itself (its options, its variables): one finding per
// directory, however many entry points apply it.
func byDirectory(p *plan, findings []check.Finding) []check.Finding {
	entries := map[string]render.Target{}
	for _, tg := range p.targets {
		if tg.Entry != nil {
			entries[tg.ID()] = tg
		}
	}
	seen := map[string]bool{}
	out := findings[:0]
	for _, f := range findings {
		if tg, ok := entries[f.Target]; ok && f.File != tg.Entry.File {
			f.Target = tg.Dir
		} else if p.helm[f.Target] {
			// a Helm release's target: its file#name
		} else if file, _, ok := strings.Cut(f.Target, "#"); ok {
			f.Target = path.Dir(file) // on the entry point: its cluster folder
		}
		k := fmt.Sprint(f.Code, "\x00", f.Target, "\x00", f.File, "\x00", f.Line, "\x00", f.Resource, "\x00", f.Message)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// planBaselines adds, for each directory a plain target renders (an overlay,
// the path of an entry point without options) whose kustomization sets
// transformers (namePrefix, namespace, replacements...), one hidden build
// per transformer without it: what tells which findings it causes.
func (p *plan) planBaselines(tree *render.Tree) {
	p.without, p.baselines = map[string]kustomize.Transformer{}, map[string][]string{}
	done := map[string]bool{}
	var added []render.Target
	for _, tg := range p.targets {
		if tg.Kind == render.Cluster || p.hidden[tg.ID()] || (tg.Entry != nil && tg.Entry.HasOptions()) || done[tg.Dir] {
			continue
		}
		done[tg.Dir] = true
		for _, tr := range kustomize.Transformers(tree, tg.Dir) {
			base, err := kustomize.PrepareWithout(tree, tg.Dir, tr, len(p.without))
			if err != nil {
				continue // without it the build fails: it causes nothing the validator can tell
			}
			p.without[base.ID()] = tr
			p.baselines[tg.Dir] = append(p.baselines[tg.Dir], base.ID())
			p.hidden[base.ID()] = true
			added = append(added, base)
		}
	}
	p.targets = append(p.targets, added...)
}

// blameTransformers hands a finding a transformer causes to the
// transformer's line: a finding of a plain target (an overlay, an entry
// point without options) on a file other than the kustomization, which the
// build of its directory without that transformer does not have (same code,
// file and kind), names the kustomization file and the transformer's line.
// built says which baselines rendered: one that did not tells nothing.
func blameTransformers(p *plan, findings []check.Finding, built map[string]bool) []check.Finding {
	type key struct{ code, file, kind string }
	keyOf := func(f check.Finding) key {
		kind, _, _ := strings.Cut(f.Resource, " ")
		return key{f.Code, f.File, kind}
	}
	base := map[string]map[key]bool{}
	for _, f := range findings {
		if _, ok := p.without[f.Target]; ok {
			if base[f.Target] == nil {
				base[f.Target] = map[key]bool{}
			}
			base[f.Target][keyOf(f)] = true
		}
	}
	for i, f := range findings {
		if p.hidden[f.Target] || !isPlainTarget(p, f.Target) {
			continue
		}
		for _, id := range p.baselines[dirOf(p, f.Target)] {
			tr := p.without[id]
			if built[id] && f.File != tr.File && !base[id][keyOf(f)] {
				findings[i].Message += fmt.Sprintf(" (caused by %s in %s)", tr.Field, tr.File)
				findings[i].File, findings[i].Line = tr.File, tr.Line
				break
			}
		}
	}
	return findings
}
