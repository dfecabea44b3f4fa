package pipeline

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/variants"
)

// forkFixture is the corpus's clean repository, with fork values in place of
// the repository's placeholders.
const forkFixture = "../testdata/fork"

// treeOf loads files (repository-relative path -> content) into a tree.
func treeOf(t testing.TB, files map[string][]byte) *render.Tree {
	t.Helper()
	tree := render.NewTree("fork")
	for _, p := range variants.Paths(files) {
		if err := tree.Add(p, files[p]); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func TestForkFixtureIsClean(t *testing.T) {
	files, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTree(treeOf(t, files), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("unexpected finding: %s", f)
	}
	// 6 cluster folders and the 6 entry points they hold (each renders its
	// overlay with its engine's options); no overlay is left undeployed.
	if len(res.Targets) != 12 {
		t.Errorf("%d targets, want 12 (6 cluster folders, 6 entry points)", len(res.Targets))
	}
}

// got is a finding as the corpus states it: one per mistake, with the
// targets it is reported for.
type got struct {
	variants.Want
	messages []string
}

func (g got) String() string {
	return fmt.Sprintf("- {code: %s, file: %s, line: %d, resource: %q, targets: [%s]}  # %s",
		g.Code, g.File, g.Line, g.Resource, strings.Join(g.Targets, ", "), strings.Join(g.messages, " | "))
}

func key(code, file string, line int, resource string) string {
	return fmt.Sprintf("%s|%s|%d|%s", code, file, line, resource)
}

// grouped folds findings that differ only by target into one.
func grouped(findings []check.Finding) map[string]*got {
	out := map[string]*got{}
	for _, f := range findings {
		k := key(f.Code, f.File, f.Line, f.Resource)
		g := out[k]
		if g == nil {
			g = &got{Want: variants.Want{Code: f.Code, File: f.File, Line: f.Line, Resource: f.Resource}}
			out[k] = g
		}
		for _, tg := range f.AllTargets() {
			if !contains(g.Targets, tg) {
				g.Targets = append(g.Targets, tg)
			}
		}
		if !contains(g.messages, f.Message) {
			g.messages = append(g.messages, f.Message)
		}
	}
	for _, g := range out {
		sort.Strings(g.Targets)
	}
	return out
}

// TestBrokenVariants breaks the fork fixture one mistake at a time, as the
// corpus says, and expects exactly the findings the corpus lists: code, file,
// line, resource and targets, nothing missing and nothing more.
func TestBrokenVariants(t *testing.T) {
	all, err := variants.All()
	if err != nil {
		t.Fatal(err)
	}
	clean, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		t.Run(v.Name, func(t *testing.T) {
			files := make(map[string][]byte, len(clean))
			for p, data := range clean {
				files[p] = data
			}
			if err := v.Apply(files); err != nil {
				t.Fatal(err)
			}
			res, err := RunTree(treeOf(t, files), Options{RootNamespace: "istio-system"})
			if err != nil {
				t.Fatal(err)
			}
			noSilentTarget(t, res)
			have := grouped(res.Findings)
			ok := len(have) == len(v.Want)
			for _, w := range v.Want {
				targets := append([]string(nil), w.Targets...)
				sort.Strings(targets)
				g := have[key(w.Code, w.File, w.Line, w.Resource)]
				switch {
				case g == nil:
					t.Errorf("missing: %s %s:%d (%s) in %v", w.Code, w.File, w.Line, w.Resource, w.Targets)
					ok = false
				case strings.Join(g.Targets, ",") != strings.Join(targets, ","):
					t.Errorf("%s %s:%d (%s): targets %v, want %v", w.Code, w.File, w.Line, w.Resource, g.Targets, targets)
					ok = false
				case w.Message != "" && !strings.Contains(strings.Join(g.messages, "\n"), w.Message):
					t.Errorf("%s %s:%d (%s): message %q does not contain %q", w.Code, w.File, w.Line, w.Resource, g.messages, w.Message)
					ok = false
				}
			}
			if !ok {
				keys := make([]string, 0, len(have))
				for k := range have {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var lines []string
				for _, k := range keys {
					lines = append(lines, have[k].String())
				}
				t.Errorf("got %d findings, want %d:\n%s", len(have), len(v.Want), strings.Join(lines, "\n"))
			}
		})
	}
}
