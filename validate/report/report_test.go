package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

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

// TestSARIFInformationURI derives the URI from the GitHub Actions run, and
// leaves the optional property out elsewhere instead of a placeholder.
func TestSARIFInformationURI(t *testing.T) {
	for _, tt := range []struct{ server, repo, want string }{
		{"https://github.example.test", "acme/edge", `"informationUri": "https://github.example.test/acme/edge#readme"`},
		{"", "", ""},
	} {
		t.Setenv("GITHUB_SERVER_URL", tt.server)
		t.Setenv("GITHUB_REPOSITORY", tt.repo)
		var b bytes.Buffer
		if err := Write(&b, "sarif", findings, three, check.All()); err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(b.String(), "informationUri")
		if tt.want == "" && has || tt.want != "" && !strings.Contains(b.String(), tt.want) {
			t.Errorf("server %q repo %q: want %q in\n%.400s", tt.server, tt.repo, tt.want, b.String())
		}
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
