package pipeline

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/variants"
)

// exemption is a check the fork fixture cannot make fail (or pass), with the
// Go test that covers it instead: a test function in a package directory
// (relative to validate/pipeline).
type exemption struct {
	dir, test, why string
}

// failingElsewhere lists the codes no edit of the fork fixture can produce.
var failingElsewhere = map[string]exemption{
	// VAL001 is a check that panics: the validator's own bug. Once one is
	// found it is fixed, so no repository input keeps producing it; the test
	// registers a check that panics on one resource.
	"VAL001": {dir: "../check", test: "TestPanicBecomesInternalError", why: "a panicking check is a bug fixed once found; the test panics on purpose"},
}

// passingElsewhere lists the codes whose passing case no variant can state.
var passingElsewhere = map[string]exemption{}

// TestEveryCheckHasFixtures fails unless every check has at least one
// variant that makes it fail (its code in the variant's want) and at least
// one near miss that it must accept (its code in passes), or an exemption
// naming the Go test that covers it, which must exist.
func TestEveryCheckHasFixtures(t *testing.T) {
	all, err := variants.All()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range check.All() {
		known[c.Code] = true
	}
	failing, passing := map[string][]string{}, map[string][]string{}
	for _, v := range all {
		for _, w := range v.Want {
			if !known[w.Code] && !check.IsIstioCode(w.Code) {
				t.Errorf("variant %q wants %s, which is no check's code nor Istio's", v.Name, w.Code)
			}
			failing[w.Code] = append(failing[w.Code], v.Name)
		}
		for _, code := range v.Passes {
			if !known[code] {
				t.Errorf("variant %q passes %s, which is no check's code", v.Name, code)
			}
			passing[code] = append(passing[code], v.Name)
		}
	}
	tests := map[string]map[string]bool{} // dir -> test functions
	exempt := func(code, what string, ex exemption) {
		if _, ok := tests[ex.dir]; !ok {
			tests[ex.dir] = testFuncs(t, ex.dir)
		}
		if !tests[ex.dir][ex.test] {
			t.Errorf("%s is exempt from a %s variant, covered by %s in %s, but that test function does not exist", code, what, ex.test, ex.dir)
		}
	}
	var missing []string
	for _, c := range check.All() {
		switch ex, ok := failingElsewhere[c.Code]; {
		case ok:
			exempt(c.Code, "failing", ex)
			if len(failing[c.Code]) > 0 {
				t.Errorf("%s is exempt from a failing variant (%s) but variants %v make it fail: drop the exemption", c.Code, ex.test, failing[c.Code])
			}
		case len(failing[c.Code]) == 0:
			missing = append(missing, c.Code+" (no failing variant)")
		}
		switch ex, ok := passingElsewhere[c.Code]; {
		case ok:
			exempt(c.Code, "passing", ex)
		case len(passing[c.Code]) == 0:
			missing = append(missing, c.Code+" (no near miss naming it in passes)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d checks lack a fixture in validate/variants/variants.yaml:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}

// testFuncs returns the names of the Test functions of the package in dir.
func testFuncs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") {
				out[fn.Name.Name] = true
			}
		}
	}
	return out
}
