package fork

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render"
)

// Change is one value replaced in one file.
type Change struct {
	File     string
	Line     int
	Old, New string
}

func (c Change) String() string { return fmt.Sprintf("%s:%d: %s -> %s", c.File, c.Line, c.Old, c.New) }

// Plan is a fork's edit, computed but not written.
type Plan struct {
	Current Current
	Changes []Change
	// Files maps each file that changes (repository-relative) to its new contents.
	Files map[string][]byte
}

// Rejected is a plan whose result adds error findings; nothing was written.
type Rejected struct {
	Findings []check.Finding
}

func (r *Rejected) Error() string {
	lines := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		lines[i] = "  " + f.String()
	}
	return "the forked repository would not validate, so nothing was changed:\n" + strings.Join(lines, "\n")
}

// NewPlan finds the current values in the repository at root and computes
// the edit that replaces them with v.
func NewPlan(root string, v Values) (*Plan, error) {
	files, err := readFiles(root)
	if err != nil {
		return nil, err
	}
	cur, err := detect(root, files)
	if err != nil {
		return nil, err
	}
	var tokens []token
	if v.Repo != "" {
		if cur.Repo == "" {
			return nil, fmt.Errorf("REPO: no Flux GitRepository or Argo CD Application in the repository names a git URL to replace")
		}
		tokens = append(tokens, token{old: cur.Repo, new: v.Repo, class: urlToken})
	}
	if v.Registry != "" {
		if cur.Registry == "" {
			return nil, fmt.Errorf("REGISTRY: no WasmPlugin in the repository has an oci:// url to replace")
		}
		tokens = append(tokens, token{old: "oci://" + cur.Registry, new: "oci://" + v.Registry, class: refToken})
	}
	if v.Domain != "" {
		if cur.Domain == "" {
			return nil, fmt.Errorf("DOMAIN: the Gateway and VirtualService hosts (%s) share no DNS suffix to replace", strings.Join(cur.Hosts, ", "))
		}
		for _, h := range cur.Hosts {
			tokens = append(tokens, token{old: h, new: strings.TrimSuffix(h, cur.Domain) + v.Domain, class: hostToken})
		}
	}
	p := &Plan{Current: cur, Files: map[string][]byte{}}
	for _, f := range files {
		var edits []struct {
			r    region
			text string
		}
		for _, r := range valueRegions(f.src, f.docs) {
			text, done := replaceTokens(string(f.src[r.start:r.end]), tokens)
			if len(done) == 0 {
				continue
			}
			edits = append(edits, struct {
				r    region
				text string
			}{r, text})
			for _, m := range done {
				line := r.line + strings.Count(string(f.src[r.start:r.start+m.at]), "\n")
				p.Changes = append(p.Changes, Change{File: f.rel, Line: line, Old: m.old, New: m.new})
			}
		}
		if len(edits) == 0 {
			continue
		}
		out := append([]byte(nil), f.src...)
		for i := len(edits) - 1; i >= 0; i-- { // regions are in file order
			e := edits[i]
			out = append(out[:e.r.start], append([]byte(e.text), f.src[e.r.end:]...)...)
			// f.src and out agree before e.r.start, so the next (earlier) edit is unaffected.
			f.src = out
		}
		p.Files[f.rel] = out
	}
	sort.SliceStable(p.Changes, func(i, j int) bool {
		if p.Changes[i].File != p.Changes[j].File {
			return p.Changes[i].File < p.Changes[j].File
		}
		return p.Changes[i].Line < p.Changes[j].Line
	})
	return p, nil
}

// Validate runs the validator on the repository at root as it is and as the
// plan would leave it (in memory), and returns the error findings the plan
// adds. A finding counts as added when its check, target and file have more
// error findings after the edit than before.
func (p *Plan) Validate(root string) ([]check.Finding, error) {
	opts := pipeline.Options{RootNamespace: "istio-system"}
	before, err := pipeline.Run(root, opts)
	if err != nil {
		return nil, fmt.Errorf("validate the repository before the edit: %w", err)
	}
	tree, err := render.LoadDir(root)
	if err != nil {
		return nil, err
	}
	for rel, data := range p.Files {
		if err := tree.Add(rel, data); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
	}
	after, err := pipeline.RunTree(tree, opts)
	if err != nil {
		return nil, fmt.Errorf("the edited repository does not render, so nothing was changed: %w", err)
	}
	key := func(f check.Finding) string { return f.Code + "\x00" + f.Target + "\x00" + f.File }
	had := map[string]int{}
	for _, f := range before.Findings {
		if f.Severity == check.Error {
			had[key(f)]++
		}
	}
	var added []check.Finding
	for _, f := range after.Findings {
		if f.Severity != check.Error {
			continue
		}
		if had[key(f)] > 0 {
			had[key(f)]--
			continue
		}
		added = append(added, f)
	}
	return added, nil
}

// Write replaces each changed file atomically. If one write fails, the files
// already written are put back.
func (p *Plan) Write(root string) error {
	names := make([]string, 0, len(p.Files))
	for rel := range p.Files {
		names = append(names, rel)
	}
	sort.Strings(names)
	originals := map[string][]byte{}
	for _, rel := range names {
		path := filepath.Join(root, filepath.FromSlash(rel))
		orig, err := os.ReadFile(path)
		if err == nil {
			err = pins.WriteAtomic(path, p.Files[rel])
		}
		if err != nil {
			for done, data := range originals {
				_ = pins.WriteAtomic(filepath.Join(root, filepath.FromSlash(done)), data)
			}
			return fmt.Errorf("write %s: %w (files already written were restored)", rel, err)
		}
		originals[rel] = orig
	}
	return nil
}

// Apply plans, validates and writes a fork of the repository at root. It
// returns the plan (with no Files when nothing changes), a *Rejected error
// when the result adds error findings, or another error; only a nil error
// means files were written.
func Apply(root string, v Values) (*Plan, error) {
	p, err := NewPlan(root, v)
	if err != nil {
		return nil, err
	}
	if len(p.Files) == 0 {
		return p, nil
	}
	added, err := p.Validate(root)
	if err != nil {
		return p, err
	}
	if len(added) > 0 {
		return p, &Rejected{Findings: added}
	}
	return p, p.Write(root)
}
