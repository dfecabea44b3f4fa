package report

import (
	"bytes"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/mesh"
)

var findings = []check.Finding{
	{Code: "WP001", Severity: check.Error, Target: "overlays/dev", File: "base/wasmplugin/wasmplugin.yaml", Line: 1, Resource: "WasmPlugin blog/blog-headers", Message: "100% wrong,\nsee: here"},
	{Code: "GO004", Severity: check.Warning, Target: "overlays/qa", File: "overlays/qa/kustomization.yaml", Message: "not deployed"},
}

func TestGitHubEscapesWorkflowCommands(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "github", findings, 3, nil); err != nil {
		t.Fatal(err)
	}
	want := "::error file=base/wasmplugin/wasmplugin.yaml,line=1,title=WP001::[overlays/dev] WasmPlugin blog/blog-headers: 100%25 wrong,%0Asee: here\n" +
		"::warning file=overlays/qa/kustomization.yaml,title=GO004::[overlays/qa] not deployed\n" +
		"3 targets rendered: 1 errors, 1 warnings (Istio " + mesh.Version + ")\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTextGroupsByFile(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "text", findings, 3, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"base/wasmplugin/wasmplugin.yaml\n  error   WP001  overlays/dev WasmPlugin blog/blog-headers, line 1: 100% wrong,",
		"\noverlays/qa/kustomization.yaml\n  warning GO004  overlays/qa: not deployed\n",
		"3 targets rendered: 1 errors, 1 warnings (Istio " + mesh.Version + ")\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONHasEmptyListWhenClean(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", nil, 9, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"findings": []`) || !strings.Contains(b.String(), `"targets": 9`) {
		t.Errorf("json: %s", b.String())
	}
}
