package repofiles

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const root = "../.."

// makeTargets returns the targets the Makefile declares.
func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z-]*):`).FindAllStringSubmatch(string(data), -1) {
		targets[m[1]] = true
	}
	return targets
}

// TestWorkflowCallsOnlyMakeTargets keeps the workflow on commands that exist.
func TestWorkflowCallsOnlyMakeTargets(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, ".github/workflows/*.yaml"))
	if len(files) == 0 {
		t.Fatal("no workflow in .github/workflows")
	}
	targets := makeTargets(t)
	makeCall := regexp.MustCompile(`\bmake\s+(?:--?[a-z-]+\s+)*([a-z][a-z-]*)`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Run string `json:"run"`
				} `json:"steps"`
			} `json:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		calls := 0
		for job, j := range wf.Jobs {
			for _, s := range j.Steps {
				for _, m := range makeCall.FindAllStringSubmatch(s.Run, -1) {
					calls++
					if !targets[m[1]] {
						t.Errorf("%s: job %s runs make %s, which the Makefile does not define", f, job, m[1])
					}
				}
			}
		}
		for _, want := range []string{"validate", "test", "diff"} {
			if !strings.Contains(string(data), "make "+want) && !strings.Contains(string(data), "make --no-print-directory "+want) {
				t.Errorf("%s does not run make %s", f, want)
			}
		}
		if calls == 0 {
			t.Errorf("%s calls no make target", f)
		}
	}
}

// TestActionlint runs the pinned actionlint over the workflows.
func TestActionlint(t *testing.T) {
	cmd := exec.Command("go", "tool", "actionlint")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

// TestRenovateBumpsDevOnly checks the Renovate configuration: it parses, its
// plugin pattern reads the dev overlay's plugin pin, and only dev is enabled.
func TestRenovateBumpsDevOnly(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CustomManagers []struct {
			ManagerFilePatterns []string `json:"managerFilePatterns"`
			MatchStrings        []string `json:"matchStrings"`
		} `json:"customManagers"`
		PackageRules []struct {
			MatchFileNames []string `json:"matchFileNames"`
			Enabled        *bool    `json:"enabled"`
			GroupName      string   `json:"groupName"`
		} `json:"packageRules"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	if len(cfg.CustomManagers) != 1 || len(cfg.CustomManagers[0].MatchStrings) != 1 {
		t.Fatalf("want one custom manager with one pattern: %+v", cfg.CustomManagers)
	}
	dev, err := os.ReadFile(filepath.Join(root, "overlays/dev/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(cfg.CustomManagers[0].MatchStrings[0])
	m := re.FindStringSubmatch(string(dev))
	if m == nil {
		t.Fatal("the plugin pattern does not match overlays/dev/kustomization.yaml")
	}
	if got := m[re.SubexpIndex("depName")]; got != "ghcr.io/your-org/meshops-plugin" {
		t.Errorf("depName = %q", got)
	}
	if got := m[re.SubexpIndex("currentValue")]; got != "v0.1.0" {
		t.Errorf("currentValue = %q", got)
	}
	for _, p := range cfg.CustomManagers[0].ManagerFilePatterns {
		if !strings.Contains(p, "overlays/dev/") {
			t.Errorf("custom manager reaches beyond dev: %s", p)
		}
	}
	rules := cfg.PackageRules
	if len(rules) != 3 || rules[0].Enabled == nil || *rules[0].Enabled || rules[1].Enabled == nil || !*rules[1].Enabled ||
		len(rules[1].MatchFileNames) != 1 || rules[1].MatchFileNames[0] != "overlays/dev/kustomization.yaml" {
		t.Errorf("package rules must disable everything, then enable overlays/dev/kustomization.yaml, then the oracle's tools: %+v", rules)
	}
	// The API server oracle's module: every k8s.io and etcd version in one group.
	if len(rules) == 3 && (rules[2].Enabled == nil || !*rules[2].Enabled || len(rules[2].MatchFileNames) != 1 ||
		rules[2].MatchFileNames[0] != "tools/kube/go.mod" || rules[2].GroupName == "") {
		t.Errorf("the third package rule must group tools/kube/go.mod's updates: %+v", rules[2])
	}
	if _, err := os.Stat(filepath.Join(root, "tools/kube/go.mod")); err != nil {
		t.Errorf("renovate.json groups tools/kube/go.mod: %v", err)
	}
}
