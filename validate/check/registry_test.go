package check_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// emitted are the checks the pipeline reports itself, with no function.
var emitted = map[string]bool{"RN001": true, "RN002": true, "VAL001": true,
	"HLM001": true, "HLM002": true, "HLM003": true, "HLM004": true, "HLM005": true}

func TestRegistry(t *testing.T) {
	code := regexp.MustCompile(`^[A-Z][A-Z0-9]*[0-9]{3}$`)
	codes, names := map[string]bool{}, map[string]bool{}
	for _, c := range check.All() {
		if !code.MatchString(c.Code) {
			t.Errorf("%s: code is not LETTERS+3 digits", c.Code)
		}
		if codes[c.Code] {
			t.Errorf("%s: code used twice", c.Code)
		}
		if names[c.Name] || c.Name == "" {
			t.Errorf("%s: name %q empty or used twice", c.Code, c.Name)
		}
		codes[c.Code], names[c.Name] = true, true
		if strings.TrimSpace(c.Summary) == "" || strings.TrimSpace(c.Rationale) == "" {
			t.Errorf("%s: needs a summary and a rationale", c.Code)
		}
		if c.Severity != check.Error && c.Severity != check.Warning {
			t.Errorf("%s: severity %q", c.Code, c.Severity)
		}
		if fns := btoi(c.Target != nil) + btoi(c.Repo != nil); fns != 1 && !emitted[c.Code] || fns != 0 && emitted[c.Code] {
			t.Errorf("%s: sets %d of Target and Repo", c.Code, fns)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestEveryCheckIsInAll parses the package's sources: every exported
// package-level variable initialised with catalogued("CODE") is in All(),
// and none is a &Check{...} literal, whose texts would live outside
// messages.yaml.
func TestEveryCheckIsInAll(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	inAll := map[string]bool{}
	for _, c := range check.All() {
		inAll[c.Code] = true
	}
	declared := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.UnaryExpr); ok {
						if cl, ok := lit.X.(*ast.CompositeLit); ok {
							if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "Check" {
								t.Errorf("%s: %s is a &Check{...} literal: give it an entry in messages.yaml and declare it with catalogued(code)",
									fset.Position(name.Pos()), name.Name)
							}
						}
						continue
					}
					call, ok := vs.Values[i].(*ast.CallExpr)
					if !ok {
						continue
					}
					if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "catalogued" {
						continue
					}
					lit, ok := call.Args[0].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: %s: catalogued takes the code as a string literal", fset.Position(name.Pos()), name.Name)
						continue
					}
					code := strings.Trim(lit.Value, `"`)
					if other, ok := declared[code]; ok {
						t.Errorf("%s: %s and %s both declare %s", fset.Position(name.Pos()), other, name.Name, code)
					}
					declared[code] = name.Name
					if !inAll[code] {
						t.Errorf("%s (%s) is not in All()", name.Name, code)
					}
				}
			}
		}
	}
	if len(declared) != len(check.All()) {
		t.Errorf("%d checks declared, All() returns %d", len(declared), len(check.All()))
	}
}

// TestPanicBecomesInternalError: a check that panics on one resource gives
// one VAL001 finding naming the check, the resource, its file and line.
func TestPanicBecomesInternalError(t *testing.T) {
	tree := render.NewTree("test")
	_ = tree.Add("overlays/dev/kustomization.yaml", []byte("resources:\n- cms.yaml\n"))
	_ = tree.Add("overlays/dev/cms.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: boom\n"))
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
	if err != nil {
		t.Fatal(err)
	}
	crashing := &check.Check{Code: "XX001", Name: "crashing", Severity: check.Warning, Summary: "s", Rationale: "r",
		Target: func(ix *index.Index, _ *check.Env) []check.Finding {
			for _, o := range ix.Kind("ConfigMap") {
				if o.Name == "boom" {
					var m map[string]int
					m["x"]++ // assignment to a nil map
				}
			}
			return nil
		}}
	got := crashing.Run(index.New(res), &check.Env{})
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %v", len(got), got)
	}
	f := got[0]
	if f.Code != "VAL001" || f.Severity != check.Error || f.Resource != "ConfigMap boom" || f.File != "overlays/dev/cms.yaml" || f.Line != 6 ||
		!strings.Contains(f.Message, "check XX001 (crashing) crashed: assignment to entry in nil map") {
		t.Errorf("finding %+v", f)
	}
	healthy := &check.Check{Code: "XX002", Name: "healthy", Severity: check.Warning, Summary: "s", Rationale: "r",
		Target: func(*index.Index, *check.Env) []check.Finding { return nil }}
	if got := healthy.Run(index.New(res), &check.Env{}); len(got) != 0 {
		t.Errorf("a healthy check gives %v", got)
	}
}
