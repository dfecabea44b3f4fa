package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/settings"
)

var findings = []check.Finding{
	{Code: "WP001", Severity: check.Error, Target: "overlays/dev", File: "base/wasmplugin/wasmplugin.yaml", Line: 1, Resource: "WasmPlugin blog/blog-headers", Message: "100% wrong,\nsee: here"},
	{Code: "GO004", Severity: check.Warning, Target: "overlays/qa", File: "overlays/qa/kustomization.yaml", Message: "not deployed"},
}

var three = []string{"overlays/dev", "overlays/prod", "overlays/qa"}

func TestGitHubEscapesWorkflowCommands(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "github", findings, three, nil); err != nil {
		t.Fatal(err)
	}
	want := "::error file=base/wasmplugin/wasmplugin.yaml,line=1,title=WP001::[overlays/dev] WasmPlugin blog/blog-headers: 100%25 wrong,%0Asee: here\n" +
		"::warning file=overlays/qa/kustomization.yaml,title=GO004::[overlays/qa] not deployed\n" +
		"3 targets rendered (overlays/dev, overlays/prod, overlays/qa): 1 error, 1 warning (Istio " + mesh.Version + ")\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTextGroupsByFile(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "text", findings, three, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"base/wasmplugin/wasmplugin.yaml\n  error   WP001  overlays/dev WasmPlugin blog/blog-headers, line 1: 100% wrong,",
		"\noverlays/qa/kustomization.yaml\n  warning GO004  overlays/qa: not deployed\n",
		"3 targets rendered (overlays/dev, overlays/prod, overlays/qa): 1 error, 1 warning (Istio " + mesh.Version + ")\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONHasEmptyListWhenClean(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", nil, three, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"findings": []`) || !strings.Contains(b.String(), `"targets": 3`) {
		t.Errorf("json: %s", b.String())
	}
}

// TestMergedFindingNamesEveryTarget: a finding several targets share prints
// once, naming them all, in every format.
func TestMergedFindingNamesEveryTarget(t *testing.T) {
	f := []check.Finding{{Code: "IS002", Severity: check.Error, Target: "overlays/dev", Targets: []string{"overlays/dev", "overlays/prod"},
		File: "base/ingress/gateway.yaml", Line: 11, Resource: "Gateway blog/blog", Message: "port number 0"}}
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, format, f, three, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "overlays/prod") || strings.Count(b.String(), "port number 0") != 1 {
			t.Errorf("%s: want one finding naming both targets:\n%s", format, b.String())
		}
	}
}

func TestSummaryCountsInEnglish(t *testing.T) {
	tests := []struct {
		findings []check.Finding
		targets  []string
		want     string
	}{
		{nil, []string{"overlays/dev"}, "1 target rendered (overlays/dev): 0 errors, 0 warnings"},
		{findings[:1], three, "3 targets rendered (overlays/dev, overlays/prod, overlays/qa): 1 error, 0 warnings"},
		{nil, nil, "0 targets rendered: 0 errors, 0 warnings"},
	}
	for _, tt := range tests {
		if got, want := summary(tt.findings, tt.targets), tt.want+" (Istio "+mesh.Version+")"; got != want {
			t.Errorf("summary = %q, want %q", got, want)
		}
	}
}

func TestListChecksJSON(t *testing.T) {
	var b bytes.Buffer
	checks := check.All()
	if err := WriteChecks(&b, "json", checks); err != nil {
		t.Fatal(err)
	}
	var list []struct{ Code, Name, Severity, Summary, Rationale string }
	if err := json.Unmarshal(b.Bytes(), &list); err != nil {
		t.Fatalf("--list-checks -o json is not JSON: %v\n%s", err, b.String())
	}
	if len(list) != len(checks) || list[0].Code != checks[0].Code || list[0].Summary == "" {
		t.Errorf("got %d checks (first %+v), want %d", len(list), list[0], len(checks))
	}
	if err := WriteChecks(&b, "yaml", checks); err == nil {
		t.Error("--list-checks -o yaml: want an error")
	}
}

// TestSARIFInformationURI derives the URI from the GitHub Actions run, else
// from the repository's git remote (its web address, credentials dropped),
// else the README as a file: URI: SARIF code scanning shows it, and it is
// never a made-up address.
func TestSARIFInformationURI(t *testing.T) {
	t.Setenv("GITHUB_SERVER_URL", "https://github.example.test")
	t.Setenv("GITHUB_REPOSITORY", "acme/edge")
	if got := ToolOf("").InformationURI; got != "https://github.example.test/acme/edge#readme" {
		t.Errorf("in a workflow run: %q", got)
	}
	t.Setenv("GITHUB_SERVER_URL", "")
	t.Setenv("GITHUB_REPOSITORY", "")
	dir := t.TempDir()
	if got := ToolOf(dir).InformationURI; !strings.HasPrefix(got, "file:///") || !strings.HasSuffix(got, "/README.md") {
		t.Errorf("outside git: %q, want the README as a file: URI", got)
	}
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Skipf("git init: %v %s", err, out)
	}
	for clone, want := range map[string]string{
		"git@git.fork.test:platform/edge.git":                "https://git.fork.test/platform/edge#readme",
		"ssh://git@git.fork.test:2222/platform/edge.git":     "https://git.fork.test/platform/edge#readme",
		"https://bot:s3cret@git.fork.test/platform/edge.git": "https://git.fork.test/platform/edge#readme",
		"http://git.fork.test/platform/edge":                 "http://git.fork.test/platform/edge#readme",
		"/srv/git/edge.git":                                  "file://",
	} {
		if out, err := exec.Command("git", "-C", dir, "config", "remote.origin.url", clone).CombinedOutput(); err != nil {
			t.Fatalf("git config: %v %s", err, out)
		}
		if got := ToolOf(dir).InformationURI; !strings.HasPrefix(got, want) || strings.Contains(got, "s3cret") {
			t.Errorf("remote %q: informationUri %q, want %q", clone, got, want)
		}
	}
}

// sarifSchema compiles Microsoft's copy of the SARIF 2.1.0 schema
// (testdata/README.md), with format assertions on (uri, uri-reference).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://json.schemastore.org/sarif-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestSARIFMatchesTheSchema: findings with and without a line, a file
// whose path needs escaping, a finding without a file, every check as a
// rule: the document is valid SARIF 2.1.0, each result with a line has its
// region, and the driver has its version and informationUri.
func TestSARIFMatchesTheSchema(t *testing.T) {
	all := append(append([]check.Finding{}, findings...),
		check.Finding{Code: "RN002", Severity: check.Error, Target: "overlays/my env", File: "overlays/my env/kustomization.yaml", Line: 4, Message: "no such file"},
		check.Finding{Code: "GO004", Severity: check.Warning, Target: "clusters/dev/flux/blog.yaml#blog", Message: "no file"},
	)
	var b bytes.Buffer
	tool := Tool{Name: ToolName, Version: "1.2.3", InformationURI: "https://git.fork.test/platform/edge#readme"}
	if err := WriteFor(&b, "sarif", tool, all, three, check.All()); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sch := sarifSchema(t)
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", err, b.String())
	}
	// The schema does refuse a broken document: a region's line 0.
	broken, _ := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(b.String(), `"startLine": 4`, `"startLine": 0`, 1)))
	if sch.Validate(broken) == nil {
		t.Error("the schema accepts startLine 0: it checks nothing")
	}
	var doc sarifLog
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	d := doc.Runs[0].Tool.Driver
	if d.Version != "1.2.3" || d.InformationURI != tool.InformationURI || len(d.Rules) != len(check.All()) {
		t.Errorf("driver %+v", d)
	}
	type where struct {
		uri       string
		line, end int
	}
	var got []where
	for _, r := range doc.Runs[0].Results {
		if len(r.Locations) != 1 {
			t.Fatalf("result %+v: want one location", r)
		}
		w := where{uri: r.Locations[0].PhysicalLocation.ArtifactLocation.URI}
		if reg := r.Locations[0].PhysicalLocation.Region; reg != nil {
			w.line, w.end = reg.StartLine, reg.EndLine
		}
		if r.RuleIndex == nil || d.Rules[*r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s: ruleIndex does not point at its rule", r.RuleID)
		}
		got = append(got, w)
	}
	// Tool.Root is "": a finding without a line has no region.
	want := []where{{"base/wasmplugin/wasmplugin.yaml", 1, 0}, {"overlays/qa/kustomization.yaml", 0, 0}, {"overlays/my%20env/kustomization.yaml", 4, 0}, {"clusters/dev/flux/blog.yaml", 0, 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("locations %v, want %v", got, want)
	}
}

// TestJSONDecodesStrictly: -o json is exactly the JSON type, nothing more.
func TestJSONDecodesStrictly(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", findings, three, nil); err != nil {
		t.Fatal(err)
	}
	var doc JSON
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if dec.More() {
		t.Error("more than one JSON document")
	}
	if len(doc.Findings) != 2 || doc.Findings[0].Line != 1 || doc.Summary.Errors != 1 || doc.Summary.Warnings != 1 || doc.Summary.Targets != 3 || doc.Istio != mesh.Version {
		t.Errorf("decoded %+v", doc)
	}
}

// run is a clean run that could not check one kind and has a check off.
var run = Run{
	Targets:    three,
	NotChecked: []check.Unchecked{{Target: "overlays/dev", Kinds: []string{"cert-manager.io/v1 Certificate (1)"}}},
	Off:        []settings.Off{{Code: "IMG002", Paths: []string{"overlays/dev/**"}, Line: 3}},
	Silenced:   2,
}

func TestEveryFormatSaysWhatWasNotCheckedAndWhatIsOff(t *testing.T) {
	for format, want := range map[string][]string{
		"text": {
			"not checked (no schema) [overlays/dev]: cert-manager.io/v1 Certificate (1)\n",
			"check IMG002 is off in overlays/dev/** (validate.yaml:3)\n",
			"2 findings silenced by validate.yaml\n",
		},
		"github": {
			"::notice title=not checked::not checked (no schema) [overlays/dev]: cert-manager.io/v1 Certificate (1)\n",
			"::notice file=validate.yaml,line=3,title=IMG002 off::check IMG002 is off in overlays/dev/**\n",
		},
	} {
		var b bytes.Buffer
		if err := WriteRun(&b, format, run); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: %q missing from\n%s", format, w, b.String())
			}
		}
	}

	var b bytes.Buffer
	if err := WriteRun(&b, "json", run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NotChecked []check.Unchecked `json:"notChecked"`
		ChecksOff  []settings.Off    `json:"checksOff"`
		Summary    struct{ Silenced int }
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.NotChecked) != 1 || doc.NotChecked[0].Kinds[0] != "cert-manager.io/v1 Certificate (1)" || len(doc.ChecksOff) != 1 || doc.ChecksOff[0].Code != "IMG002" || doc.Summary.Silenced != 2 {
		t.Errorf("json: %s", b.String())
	}

	b.Reset()
	if err := WriteRun(&b, "sarif", run); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Runs []struct {
			Invocations []struct {
				ToolExecutionNotifications []struct {
					Message struct{ Text string }
				}
				ToolConfigurationNotifications []struct {
					Descriptor struct{ ID string }
					Locations  []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &sarif); err != nil {
		t.Fatal(err)
	}
	inv := sarif.Runs[0].Invocations[0]
	if len(inv.ToolExecutionNotifications) != 1 || !strings.Contains(inv.ToolExecutionNotifications[0].Message.Text, "cert-manager.io/v1 Certificate") {
		t.Errorf("sarif execution notifications: %s", b.String())
	}
	if c := inv.ToolConfigurationNotifications; len(c) != 1 || c[0].Descriptor.ID != "IMG002" || c[0].Locations[0].PhysicalLocation.ArtifactLocation.URI != "validate.yaml" || c[0].Locations[0].PhysicalLocation.Region.StartLine != 3 {
		t.Errorf("sarif configuration notifications: %s", b.String())
	}
}

func TestJSONHasEmptyNotCheckedWhenEverythingIsChecked(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", nil, three, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"notChecked": []`, `"checksOff": []`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s missing from %s", want, b.String())
		}
	}
}

// TestSARIFNotificationsMatchTheSchema: what a run could not check and the
// checks validate.yaml turns off are invocation notifications that SARIF
// 2.1.0's schema accepts, and the JSON report decodes strictly with them.
func TestSARIFNotificationsMatchTheSchema(t *testing.T) {
	r := run
	r.Tool = Tool{Name: ToolName, Version: "1.2.3", InformationURI: "https://git.fork.test/platform/edge#readme"}
	var b bytes.Buffer
	if err := WriteRun(&b, "sarif", r); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(inst); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", err, b.String())
	}
	var doc sarifLog
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	inv := doc.Runs[0].Invocations
	if len(inv) != 1 || len(inv[0].ToolExecutionNotifications) != 1 || len(inv[0].ToolConfigurationNotifications) != 1 ||
		inv[0].ToolConfigurationNotifications[0].Descriptor.ID != "IMG002" {
		t.Errorf("invocations %+v", inv)
	}
	b.Reset()
	if err := WriteRun(&b, "json", r); err != nil {
		t.Fatal(err)
	}
	var j JSON
	dec = json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		t.Fatal(err)
	}
	if len(j.NotChecked) != 1 || len(j.ChecksOff) != 1 || j.Summary.Silenced != 2 {
		t.Errorf("json %+v", j)
	}
}
