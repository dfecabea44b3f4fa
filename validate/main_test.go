package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/report"
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
		{[]string{".."}, 0, ": 0 errors, 0 warnings (Istio " + mesh.Version + ")"},
		{[]string{"-o", "json", ".."}, 0, `"errors": 0`},
		{[]string{"render/kustomize/testdata/missing"}, 2, `error   RN002  overlays/dev, line 4: resources[0] "../../base": no such file or directory`},
		{[]string{"render/testdata/empty"}, 2, "validate: nothing to validate in render/testdata/empty: no overlays/<env>/ with a kustomization file, and no Flux Kustomization or Argo CD Application"},
		{[]string{"does-not-exist"}, 2, "validate: repository does-not-exist"},
		{[]string{"render/kustomize/testdata/remote"}, 2, "RN001"},
		{[]string{"-o", "yaml", ".."}, 2, `unknown output format "yaml"`},
		{[]string{"-cpuprofile", "does-not-exist/cpu.pprof", ".."}, 2, "validate: -cpuprofile: open does-not-exist/cpu.pprof: no such file or directory"},
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

// TestCPUProfile: -cpuprofile writes a profile of the run that go tool pprof
// reads (make pgo merges them into validate/default.pgo), with samples in
// the pipeline, and leaves the report as it is.
func TestCPUProfile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cpu.pprof")
	var out, plain, errb bytes.Buffer
	if code := run([]string{"-cpuprofile", file, "-o", "json", ".."}, &out, &errb); code != 0 {
		if strings.Contains(errb.String(), "cpu profiling already in use") {
			t.Skip("needs Go's CPU profiler, which go test -cpuprofile holds")
		}
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if code := run([]string{"-o", "json", ".."}, &plain, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !bytes.Equal(out.Bytes(), plain.Bytes()) {
		t.Errorf("-cpuprofile changed the report:\n%s\nwant:\n%s", out.String(), plain.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("go tool pprof cannot read %s: %v", file, err)
	}
	if len(p.SampleType) == 0 || p.SampleType[len(p.SampleType)-1].Type != "cpu" {
		t.Errorf("sample types %v, want cpu", p.SampleType)
	}
	inPipeline := false
	for _, fn := range p.Function {
		inPipeline = inPipeline || strings.HasPrefix(fn.Name, "meshops.dev/meshops/validate/pipeline.")
	}
	if !inPipeline {
		t.Errorf("no sample in meshops.dev/meshops/validate/pipeline among %d samples", len(p.Sample))
	}
}

// reportRepos are what the report tests run the validator on, as make
// validate OUTPUT=format > file does, with the exit status each gives.
var reportRepos = []struct {
	dir  string
	code int
}{
	{"..", 0},                               // the shipped repository
	{"testdata/onebroken", 2},               // RN002 with a line, WL001
	{"render/kustomize/testdata/remote", 2}, // RN001
}

// TestSARIFMatchesTheSchema validates -o sarif against the SARIF 2.1.0
// JSON schema (Microsoft's copy, report/testdata/README.md): every result
// of a finding with a line has that line as its region.
func TestSARIFMatchesTheSchema(t *testing.T) {
	f, err := os.Open("report/testdata/sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-2.1.0.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reportRepos {
		var out, errb bytes.Buffer
		if code := run([]string{"-o", "json", r.dir}, &out, &errb); code != r.code {
			t.Fatalf("%s: exit %d: %s", r.dir, code, errb.String())
		}
		var findings report.JSON
		if err := json.Unmarshal(out.Bytes(), &findings); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if code := run([]string{"-o", "sarif", r.dir}, &out, &errb); code != r.code {
			t.Fatalf("%s: exit %d: %s", r.dir, code, errb.String())
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", r.dir, err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: -o sarif is not valid SARIF 2.1.0: %v", r.dir, err)
		}
		var doc struct {
			Runs []struct {
				Tool struct {
					Driver struct{ Version, InformationURI string }
				}
				Results []struct {
					RuleID    string
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           *struct{ StartLine, EndLine int }
						}
					}
				}
			}
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		run := doc.Runs[0]
		if !regexp.MustCompile(`^[0-9]`).MatchString(run.Tool.Driver.Version) || run.Tool.Driver.InformationURI == "" {
			t.Errorf("%s: driver %+v lacks version or informationUri", r.dir, run.Tool.Driver)
		}
		if len(run.Results) != len(findings.Findings) || r.code != 0 && len(run.Results) == 0 {
			t.Fatalf("%s: %d results for %d findings", r.dir, len(run.Results), len(findings.Findings))
		}
		for i, res := range run.Results {
			fd := findings.Findings[i]
			loc := res.Locations[0].PhysicalLocation
			if loc.Region == nil {
				t.Fatalf("%s: result %s %s has no region", r.dir, res.RuleID, loc.ArtifactLocation.URI)
			}
			line, end := loc.Region.StartLine, loc.Region.EndLine
			// A finding about a whole file has the whole file as its region.
			want, wantEnd := fd.Line, 0
			if fd.Line == 0 {
				data, err := os.ReadFile(filepath.Join(r.dir, fd.File))
				if err != nil {
					t.Fatal(err)
				}
				want, wantEnd = 1, strings.Count(string(data), "\n")
			}
			if res.RuleID != fd.Code || loc.ArtifactLocation.URI != fd.File || line != want || end != wantEnd {
				t.Errorf("%s: result %s %s:%d-%d, finding %s %s:%d", r.dir, res.RuleID, loc.ArtifactLocation.URI, line, end, fd.Code, fd.File, fd.Line)
			}
		}
	}
}

// TestJSONDecodesStrictly: -o json is one document of report.JSON's shape,
// no field more, and its counts match its findings.
func TestJSONDecodesStrictly(t *testing.T) {
	for _, r := range reportRepos {
		var out, errb bytes.Buffer
		if code := run([]string{"-o", "json", r.dir}, &out, &errb); code != r.code {
			t.Fatalf("%s: exit %d: %s", r.dir, code, errb.String())
		}
		dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
		dec.DisallowUnknownFields()
		var doc report.JSON
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: %v\n%s", r.dir, err, out.String())
		}
		if dec.More() {
			t.Errorf("%s: more than one document", r.dir)
		}
		errs, warns := 0, 0
		for _, f := range doc.Findings {
			if f.Code == "" || f.File == "" || f.Message == "" || len(f.AllTargets()) == 0 {
				t.Errorf("%s: finding %+v lacks a field", r.dir, f)
			}
			if f.Severity == "error" {
				errs++
			} else {
				warns++
			}
		}
		if doc.Summary.Errors != errs || doc.Summary.Warnings != warns || doc.Summary.Targets != len(doc.Summary.Rendered) || doc.Istio != mesh.Version {
			t.Errorf("%s: summary %+v for %d errors, %d warnings", r.dir, doc.Summary, errs, warns)
		}
		if (r.code == 0) != (errs == 0) {
			t.Errorf("%s: exit %d with %d errors", r.dir, r.code, errs)
		}
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
