// Package safeedit writes an edit to a repository only when the validator
// finds that it adds no error: it validates the edited tree in memory, over
// every target (clusters/ included), compares with the tree as it is, and
// then replaces each file atomically.
package safeedit

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render"
)

// Options configure the validation.
type Options struct {
	// RootNamespace is Istio's root namespace.
	RootNamespace string
}

// Refused is the error of an edit that would add error-level findings.
type Refused struct {
	Added []check.Finding
}

func (r *Refused) Error() string {
	lines := make([]string, len(r.Added))
	for i, f := range r.Added {
		lines[i] = f.String()
	}
	return fmt.Sprintf("the edit adds %d error(s):\n  %s", len(r.Added), strings.Join(lines, "\n  "))
}

// Write validates the repository at repo with files (repository-relative
// path -> new content) in place of the files there, and writes them only
// when that adds no error-level finding to what the repository already
// has: an overlay that is broken already does not block an edit of another.
// Findings are compared without line numbers (an edit moves lines). It
// returns a *Refused when the edit adds errors, and writes nothing then.
func Write(repo string, files map[string][]byte, opts Options) error {
	before, err := run(repo, nil, opts)
	if err != nil {
		return err
	}
	after, err := run(repo, files, opts)
	if err != nil {
		return err
	}
	if added := Added(before, after); len(added) > 0 {
		return &Refused{Added: added}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := pins.WriteAtomic(filepath.Join(repo, filepath.FromSlash(p)), files[p]); err != nil {
			return err
		}
	}
	return nil
}

func run(repo string, files map[string][]byte, opts Options) ([]check.Finding, error) {
	tree, err := render.LoadDir(repo)
	if err != nil {
		return nil, err
	}
	for p, data := range files {
		if err := tree.Add(p, data); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	res, err := pipeline.RunTree(tree, pipeline.Options{RootNamespace: opts.RootNamespace})
	if err != nil {
		return nil, err
	}
	return res.Findings, nil
}

// Added returns the error-level findings of after that before does not
// have, per target, compared by code, file, resource and message.
func Added(before, after []check.Finding) []check.Finding {
	key := func(f check.Finding, target string) string {
		return strings.Join([]string{f.Code, f.File, f.Resource, f.Message, target}, "\x00")
	}
	had := map[string]bool{}
	for _, f := range before {
		for _, tg := range targetsOf(f) {
			had[key(f, tg)] = true
		}
	}
	var out []check.Finding
	for _, f := range after {
		if f.Severity != check.Error {
			continue
		}
		var added []string
		for _, tg := range targetsOf(f) {
			if !had[key(f, tg)] {
				added = append(added, tg)
			}
		}
		if len(added) > 0 {
			f.Targets, f.Target = added, added[0]
			out = append(out, f)
		}
	}
	return out
}

func targetsOf(f check.Finding) []string {
	if t := f.AllTargets(); len(t) > 0 {
		return t
	}
	return []string{""}
}
