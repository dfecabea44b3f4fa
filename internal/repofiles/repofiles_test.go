package repofiles

import (
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

// TestActionlint runs the pinned actionlint (its own module, tools/lint)
// over the workflows.
func TestActionlint(t *testing.T) {
	cmd := exec.Command("go", "tool", "-modfile=tools/lint/go.mod", "actionlint")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}
