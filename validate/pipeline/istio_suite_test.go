package pipeline

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"istio.io/istio/pkg/config/analysis/analyzers"

	"meshops.dev/meshops/validate/analyze"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
)

// istioCase is one case of Istio's analyzer suite
// (pkg/config/analysis/analyzers/analyzers_test.go of the pinned module):
// its testGrid entry, read from the source.
type istioCase struct {
	name             string
	inputFiles       []string
	meshConfigFile   string
	meshNetworksFile string
	analyzer         string // "virtualservice.GatewayAnalyzer", as Metadata().Name says
	expected         []istioExpected
	skipAll          bool
}

// istioExpected is one expected message: Istio's code and "Kind ns/name".
type istioExpected struct{ code, origin string }

// istioModuleDir is the pinned istio.io/istio in the module cache.
func istioModuleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("needs the pinned istio.io/istio in the module cache (go list -m istio.io/istio: %v)", err)
	}
	return dir
}

// messageCodes maps the names of pkg/config/analysis/msg's message types
// (ReferencedResourceNotFound) to their codes (IST0101), from messages.gen.go.
func messageCodes(t *testing.T, dir string) map[string]string {
	t.Helper()
	file := filepath.Join(dir, "pkg/config/analysis/msg/messages.gen.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, v := range vs.Values {
			call, ok := v.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				continue
			}
			if lit, ok := call.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				code, _ := strconv.Unquote(lit.Value)
				out[vs.Names[i].Name] = code
			}
		}
		return true
	})
	if len(out) == 0 {
		t.Fatalf("%s: no message types found", file)
	}
	return out
}

// istioSuite parses the testGrid of analyzers_test.go.
func istioSuite(t *testing.T, dir string) []istioCase {
	t.Helper()
	codes := messageCodes(t, dir)
	file := filepath.Join(dir, "pkg/config/analysis/analyzers/analyzers_test.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	str := func(e ast.Expr) string {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			return s
		}
		return ""
	}
	var grid *ast.CompositeLit
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if ok && len(vs.Names) == 1 && vs.Names[0].Name == "testGrid" && len(vs.Values) == 1 {
			grid, _ = vs.Values[0].(*ast.CompositeLit)
		}
		return grid == nil
	})
	if grid == nil {
		t.Fatalf("%s: no testGrid", file)
	}
	var out []istioCase
	for _, e := range grid.Elts {
		lit, ok := e.(*ast.CompositeLit)
		if !ok {
			continue
		}
		var c istioCase
		for _, kv := range lit.Elts {
			kv, ok := kv.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			switch kv.Key.(*ast.Ident).Name {
			case "name":
				c.name = str(kv.Value)
			case "meshConfigFile":
				c.meshConfigFile = str(kv.Value)
			case "meshNetworksFile":
				c.meshNetworksFile = str(kv.Value)
			case "skipAll":
				c.skipAll = kv.Value.(*ast.Ident).Name == "true"
			case "inputFiles":
				for _, in := range kv.Value.(*ast.CompositeLit).Elts {
					c.inputFiles = append(c.inputFiles, str(in))
				}
			case "analyzer":
				// schemaValidation.CollectionValidationAnalyzer(collections.VirtualService)
				// is schema.ValidationAnalyzer.VirtualService.
				if call, ok := kv.Value.(*ast.CallExpr); ok && len(call.Args) == 1 {
					if sel, ok := call.Args[0].(*ast.SelectorExpr); ok {
						c.analyzer = "schema.ValidationAnalyzer." + sel.Sel.Name
					}
				}
				if u, ok := kv.Value.(*ast.UnaryExpr); ok {
					if cl, ok := u.X.(*ast.CompositeLit); ok {
						if sel, ok := cl.Type.(*ast.SelectorExpr); ok {
							c.analyzer = sel.X.(*ast.Ident).Name + "." + sel.Sel.Name
						}
					}
				}
			case "expected":
				for _, m := range kv.Value.(*ast.CompositeLit).Elts {
					pair := m.(*ast.CompositeLit).Elts
					sel := pair[0].(*ast.SelectorExpr)
					code, ok := codes[sel.Sel.Name]
					if !ok {
						t.Fatalf("%s: case %q: unknown message type msg.%s", file, c.name, sel.Sel.Name)
					}
					c.expected = append(c.expected, istioExpected{code: code, origin: str(pair[1])})
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// outOfScope says why a case of Istio's suite is not run against the
// validator, or "" when it is. The reasons are the analyzers analyze does not
// run (analyze.Excluded, the schema validation wrappers) and the cases whose
// input no repository can hold.
func outOfScope(c istioCase, inAll map[string]string) string {
	if why, ok := analyze.Excluded[inAll[c.analyzer]]; ok {
		return c.analyzer + " is not run: " + why
	}
	switch {
	case strings.HasPrefix(c.analyzer, "schema.ValidationAnalyzer."):
		// IS002 runs the same validation; its warnings carry the codes
		// this analyzer gives them (IST0130, IST0131, IST0133).
		return ""
	case inAll[c.analyzer] == "":
		return c.analyzer + " is not in analyzers.All(): istioctl analyze does not run it either"
	case c.meshNetworksFile != "":
		return "meshNetworks is multicluster configuration: platform.yaml has no meshNetworks"
	}
	return ""
}

// analyzerNames maps the Go type of each analyzer of analyzers.All()
// ("deployment.ApplicationUIDAnalyzer", as the suite names it) to the name
// it gives itself ("applicationUID.Analyzer", as messages are mapped).
func analyzerNames() map[string]string {
	out := map[string]string{}
	for _, a := range analyzers.All() {
		t := reflect.TypeOf(a).Elem()
		out[path.Base(t.PkgPath())+"."+t.Name()] = a.Metadata().Name
	}
	return out
}

// istioCaseTree is the repository the suite's case becomes: an overlay
// whose resources are the case's input files, and its meshConfigFile as
// platform.yaml's meshConfig.
func istioCaseTree(t *testing.T, dir string, c istioCase) *render.Tree {
	t.Helper()
	tree := render.NewTree("istio-suite")
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for i, in := range c.inputFiles {
		data, err := os.ReadFile(filepath.Join(dir, "pkg/config/analysis/analyzers", in))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%d-%s", i, filepath.Base(in))
		if err := tree.Add("overlays/case/"+name, data); err != nil {
			t.Fatal(err)
		}
		kust += "  - " + name + "\n"
	}
	if err := tree.Add("overlays/case/kustomization.yaml", []byte(kust)); err != nil {
		t.Fatal(err)
	}
	if c.meshConfigFile != "" {
		data, err := os.ReadFile(filepath.Join(dir, "pkg/config/analysis/analyzers", c.meshConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("meshConfig:\n")
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
		if err := tree.Add("platform.yaml", []byte(b.String())); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// superseded lists the expected messages the validator reports otherwise,
// on purpose, with the reason: one finding per mistake.
var supersededInSuite = map[string]string{
	// testdata/virtualservice_destinationhosts.yaml: "route: [{}] # test
	// destination null". The API server refuses the VirtualService (IS001:
	// the CRD schema requires destination), so it never exists; Istio's
	// DestinationHostAnalyzer, which reads files without the schema,
	// reports host "" not found (IST0101). The refusal is the finding, at
	// the line of the route: IS001 is right, and IST0101 restates it.
	"virtualServiceDestinationHosts|IST0101 VirtualService default/reviews-bogushost": "IS001",
}

// carries reports whether finding f reports Istio's code: its own code, or a
// meshops check that says the same and names Istio's code in its message.
func carries(f check.Finding, code string) bool {
	return f.Code == code || strings.Contains(f.Message, "istioctl analyze: "+code)
}

// TestIstioAnalyzerSuite runs every in-scope case of Istio's own analyzer
// suite through the validator (an overlay of the case's input files, --mesh
// all) and expects exactly the messages Istio's test expects of the case's
// analyzer: the same codes (or the meshops check that carries the code) on
// the same resources, none missing and none more. The codes asserted are
// those the case's analyzer reports anywhere in the suite; the findings of
// the other analyzers and checks are logged.
func TestIstioAnalyzerSuite(t *testing.T) {
	dir := istioModuleDir(t)
	cases := istioSuite(t, dir)
	inAll := analyzerNames()
	codesOf := map[string]map[string]bool{}
	for _, c := range cases {
		if codesOf[c.analyzer] == nil {
			codesOf[c.analyzer] = map[string]bool{}
		}
		for _, e := range c.expected {
			codesOf[c.analyzer][e.code] = true
		}
	}
	var expected, reported, run int
	var skipped []string
	for i, c := range cases {
		if why := outOfScope(c, inAll); why != "" {
			skipped = append(skipped, fmt.Sprintf("%s: %s", c.name, why))
			continue
		}
		run++
		expected += len(c.expected)
		t.Run(fmt.Sprintf("%02d-%s", i, c.name), func(t *testing.T) {
			res, err := RunTree(istioCaseTree(t, dir, c), Options{Mesh: MeshAll})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var others []string
			text := map[string][]string{}
			for _, f := range res.Findings {
				asserted := false
				for code := range codesOf[c.analyzer] {
					if carries(f, code) && (f.Analyzer == "" || contains(strings.Split(f.Analyzer, ","), inAll[c.analyzer])) && f.Code != check.IstioWebhook.Code {
						got = append(got, code+" "+f.Resource)
						text[code+" "+f.Resource] = append(text[code+" "+f.Resource], f.String())
						asserted = true
					}
				}
				if !asserted {
					others = append(others, f.String())
				}
			}
			var want []string
			for _, e := range c.expected {
				want = append(want, e.code+" "+e.origin)
			}
			sort.Strings(got)
			sort.Strings(want)
			missing, extra := diffMultiset(want, got)
			reported += len(want) - len(missing)
			kept := missing[:0]
			for _, m := range missing {
				code, ok := supersededInSuite[c.name+"|"+m]
				if !ok {
					kept = append(kept, m)
					continue
				}
				found := false
				for _, f := range res.Findings {
					found = found || f.Code == code && code+" "+f.Resource == code+" "+strings.SplitN(m, " ", 2)[1]
				}
				if !found {
					t.Errorf("%s: %s is superseded by %s, which is not reported", c.name, m, code)
				}
			}
			missing = kept
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("%s (%s): missing %q, extra %q", c.name, c.analyzer, missing, extra)
				for _, e := range extra {
					t.Logf("extra: %s", strings.Join(text[e], "\n  "))
				}
			}
			if len(others) > 0 {
				t.Logf("other findings:\n  %s", strings.Join(others, "\n  "))
			}
		})
	}
	t.Logf("Istio's analyzer suite: %d of %d expected messages reported, in %d cases run of %d", reported, expected, run, len(cases))
	t.Logf("out of scope (%d cases):\n  %s", len(skipped), strings.Join(skipped, "\n  "))
	fmt.Printf("Istio's analyzer suite: %d of %d expected messages reported (%d cases of %d run)\n", reported, expected, run, len(cases))
}

// diffMultiset returns what want has that got lacks, and the reverse, with
// multiplicity; both sorted.
func diffMultiset(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}
