package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/mesh"
)

var update = flag.Bool("update", false, "rewrite README.md's check table from --list-checks")

const (
	tableStart = "<!-- checks: go run ./validate --list-checks -o markdown -->\n"
	tableEnd   = "<!-- end checks -->"
)

// TestREADMEListsEveryCheck keeps the README's table equal to --list-checks
// (go test ./validate -run README -update rewrites it).
func TestREADMEListsEveryCheck(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--list-checks", "-o", "markdown"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i, j := strings.Index(text, tableStart), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", tableStart, tableEnd)
	}
	current := text[i+len(tableStart) : j]
	if current == out.String() {
		return
	}
	if *update {
		if err := os.WriteFile("../README.md", []byte(text[:i+len(tableStart)]+out.String()+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's check table is stale: go test ./validate -run README -update")
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		// The one info: Istio's IST0102 on the istio-ingress Namespace (README, "Istio's own analyzers").
		{[]string{".."}, 0, ": 0 errors, 0 warnings, 1 info (Istio " + mesh.Version + ")"},
		{[]string{"-o", "json", ".."}, 0, `"errors": 0`},
		{[]string{"render/testdata/missing"}, 2, `error   RN002  overlays/dev, line 4: resources[0] "../../base": no such file or directory`},
		{[]string{"render/testdata/empty"}, 2, "validate: overlays: no environment found"},
		{[]string{"does-not-exist"}, 2, "validate: repository does-not-exist"},
		{[]string{"render/testdata/remote"}, 2, "RN001"},
		{[]string{"-o", "yaml", ".."}, 2, `unknown output format "yaml"`},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", tt.args, code, tt.code, errb.String())
		}
		if !strings.Contains(out.String()+errb.String(), tt.out) {
			t.Errorf("%v: output does not contain %q:\n%s%s", tt.args, tt.out, out.String(), errb.String())
		}
		if tt.code == 2 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("%v: want a one-line reason, got:\n%s", tt.args, errb.String())
		}
	}
}

func TestSARIFIsValidJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-o", "sarif", "render/testdata/remote"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != 1 {
		t.Fatalf("unexpected SARIF: %s", out.String())
	}
	r := doc.Runs[0].Results[0]
	if r.RuleID != "RN001" || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != "overlays/dev/kustomization.yaml" {
		t.Errorf("result %+v", r)
	}
}

// TestOneBrokenTargetHidesNothing: a target that does not render is a
// finding with its file and line in every format, the other targets are
// still checked, a folder of overlays/ without a kustomization is no target,
// and the run exits 2.
func TestOneBrokenTargetHidesNothing(t *testing.T) {
	for _, tt := range []struct{ format, rn002, wl001 string }{
		{"text", "overlays/bad/service.yaml\n  error   RN002  overlays/bad, line 7: ", "WL001  overlays/good Service shop/web"},
		{"json", `"file": "overlays/bad/service.yaml",` + "\n      \"line\": 7,", `"code": "WL001"`},
		{"github", "::error file=overlays/bad/service.yaml,line=7,title=RN002::[overlays/bad] ", "title=WL001::[overlays/good] Service shop/web"},
		{"sarif", `"uri": "overlays/bad/service.yaml"`, `"ruleId": "WL001"`},
	} {
		var out, errb bytes.Buffer
		if code := run([]string{"-o", tt.format, "testdata/onebroken"}, &out, &errb); code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %s)", tt.format, code, errb.String())
		}
		for _, want := range []string{tt.rn002, tt.wl001, "RN002"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: output lacks %q:\n%s", tt.format, want, out.String())
			}
		}
		if strings.Contains(out.String(), "_shared") || errb.Len() > 0 {
			t.Errorf("%s: overlays/_shared is no target; stderr %q", tt.format, errb.String())
		}
	}
}

// TestIstioLogStaysOutOfTheReport runs the validator's binary on the fork
// fixture with a platform.yaml whose meshConfig sets a deprecated proxy
// setting: Istio's mesh config reader logs a warning about it, which must
// not reach stdout (the JSON report must parse), and the deprecation is a
// finding at platform.yaml's line (issue 17).
func TestIstioLogStaysOutOfTheReport(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "validate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("needs the go command to build the validator: %v: %s", err, out)
	}
	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS("testdata/fork")); err != nil {
		t.Fatal(err)
	}
	platform := "meshConfig:\n  defaultConfig:\n    proxyMetadata:\n      ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"\n"
	if err := os.WriteFile(filepath.Join(repo, "platform.yaml"), []byte(platform), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-o", "json", repo)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	var report struct {
		Findings []struct {
			Code, File, Message string
			Line                int
		} `json:"findings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	found := false
	for _, f := range report.Findings {
		if f.File == "platform.yaml" && f.Line == 4 && strings.Contains(f.Message, "ISTIO_META_DNS_AUTO_ALLOCATE' is deprecated") {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding for the deprecated setting at platform.yaml:4 in %+v", report.Findings)
	}
}
