package repofiles

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"sigs.k8s.io/yaml"
)

// prWorkflow is the part of the pull-request workflow the tests read.
type prWorkflow struct {
	Permissions map[string]string `json:"permissions"`
	Jobs        map[string]struct {
		Needs       any               `json:"needs"`
		If          string            `json:"if"`
		Permissions map[string]string `json:"permissions"`
		Outputs     map[string]string `json:"outputs"`
		Steps       []struct {
			ID   string            `json:"id"`
			Name string            `json:"name"`
			If   string            `json:"if"`
			Uses string            `json:"uses"`
			Run  string            `json:"run"`
			Env  map[string]string `json:"env"`
		} `json:"steps"`
	} `json:"jobs"`
}

func readPRWorkflow(t *testing.T) prWorkflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".github/workflows/pull-request.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf prWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	return wf
}

// expr evaluates the subset of GitHub Actions expressions the workflow uses:
// context properties (looked up in ctx; a missing one is ”), string
// literals, ==, != (case-insensitive for strings, as GitHub compares them),
// !, &&, || and parentheses, and the status functions success(), always()
// (true: the jobs before succeeded), failure() and cancelled() (false). An
// expression outside that subset fails the test, so that the test never
// guesses what GitHub would do.
type expr struct {
	t    *testing.T
	src  string
	toks []string
	ctx  map[string]string
}

var exprToken = regexp.MustCompile(`\s*(&&|\|\||==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.-]*)`)

func evalIf(t *testing.T, cond string, ctx map[string]string) bool {
	t.Helper()
	s := strings.TrimSpace(cond)
	if s == "" {
		return true // no if: success()
	}
	if strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") {
		s = strings.TrimSpace(s[3 : len(s)-2])
	}
	e := &expr{t: t, src: s, ctx: ctx}
	rest := s
	for strings.TrimSpace(rest) != "" {
		m := exprToken.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			t.Fatalf("if: %s: cannot read %q", cond, rest)
		}
		e.toks = append(e.toks, rest[m[2]:m[3]])
		rest = rest[m[1]:]
	}
	v := e.or()
	if len(e.toks) > 0 {
		t.Fatalf("if: %s: unexpected %q", cond, e.toks[0])
	}
	return truthy(v)
}

func truthy(v string) bool { return v != "" && v != "false" && v != "0" }

func (e *expr) next() string {
	if len(e.toks) == 0 {
		return ""
	}
	tok := e.toks[0]
	e.toks = e.toks[1:]
	return tok
}

func (e *expr) peek() string {
	if len(e.toks) == 0 {
		return ""
	}
	return e.toks[0]
}

func boolean(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (e *expr) or() string {
	v := e.and()
	for e.peek() == "||" {
		e.next()
		r := e.and()
		if !truthy(v) {
			v = r
		}
	}
	return v
}

func (e *expr) and() string {
	v := e.unary()
	for e.peek() == "&&" {
		e.next()
		r := e.unary()
		if truthy(v) {
			v = r
		}
	}
	return v
}

func (e *expr) unary() string {
	if e.peek() == "!" {
		e.next()
		return boolean(!truthy(e.unary()))
	}
	return e.compare()
}

func (e *expr) compare() string {
	v := e.primary()
	switch e.peek() {
	case "==":
		e.next()
		return boolean(strings.EqualFold(v, e.primary()))
	case "!=":
		e.next()
		return boolean(!strings.EqualFold(v, e.primary()))
	}
	return v
}

func (e *expr) primary() string {
	tok := e.next()
	switch {
	case tok == "(":
		v := e.or()
		if e.next() != ")" {
			e.t.Fatalf("if: %s: unbalanced parentheses", e.src)
		}
		return v
	case strings.HasPrefix(tok, "'"):
		return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
	case tok == "true" || tok == "false":
		return tok
	case tok != "" && unicode.IsLetter(rune(tok[0])) && e.peek() == "(":
		e.next()
		if e.next() != ")" {
			e.t.Fatalf("if: %s: %s() with arguments is not in the subset the test reads", e.src, tok)
		}
		switch tok {
		case "success", "always":
			return "true"
		case "failure", "cancelled":
			return "false"
		}
		e.t.Fatalf("if: %s: function %s is not in the subset the test reads", e.src, tok)
	case tok != "" && unicode.IsLetter(rune(tok[0])):
		return e.ctx[tok]
	}
	e.t.Fatalf("if: %s: unexpected %q", e.src, tok)
	return ""
}

// TestExprSubset holds the evaluator to GitHub's rules on the forms the
// workflow uses.
func TestExprSubset(t *testing.T) {
	ctx := map[string]string{"needs.a.outputs.x": "true", "github.repository": "Acme/Edge", "github.event.pull_request.head.repo.full_name": "acme/edge"}
	for cond, want := range map[string]bool{
		"needs.a.outputs.x == 'true'":    true,
		"needs.a.outputs.y == 'true'":    false,
		"${{ needs.a.outputs.y != '' }}": false,
		"${{ !cancelled() && needs.a.outputs.x != '' && github.event.pull_request.head.repo.full_name == github.repository }}": true,
		"!(needs.a.outputs.x == 'true') || failure()": false,
		"": true,
	} {
		if got := evalIf(t, cond, ctx); got != want {
			t.Errorf("%q = %v, want %v", cond, got, want)
		}
	}
}

// runPathsStep runs the changes job's step that classifies the pull
// request, as the runner does (bash -e -o pipefail), in a git repository
// whose pull request branch changes files, and returns its outputs.
func runPathsStep(t *testing.T, wf prWorkflow, files []string) map[string]string {
	t.Helper()
	var script string
	for _, s := range wf.Jobs["changes"].Steps {
		if s.ID == "paths" {
			script = s.Run
		}
	}
	if script == "" {
		t.Fatal("the changes job has no step with id paths")
	}
	if strings.Contains(script, "${{") {
		t.Fatal("the paths step expands an expression into its script: pass it through env:")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@fork.test"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("fork\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-qm", "base")
	base := git("rev-parse", "HEAD")
	git("checkout", "-qb", "change")
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("changed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "-qm", "change")
	// main moves on meanwhile: the step compares with the merge base.
	git("checkout", "-q", "main")
	if err := os.WriteFile(filepath.Join(dir, "validate.go"), []byte("package x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-qm", "main moves on")
	baseSHA := git("rev-parse", "HEAD")
	git("checkout", "-q", "change")
	_ = base
	output := filepath.Join(t.TempDir(), "output")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_SHA="+baseSHA, "GITHUB_OUTPUT="+output)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the paths step failed: %v\n%s", err, out)
	}
	data, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		outputs[k] = v
	}
	return outputs
}

func needsOf(t *testing.T, v any) []string {
	switch n := v.(type) {
	case nil:
		return nil
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, e := range n {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	t.Fatalf("needs: %v", v)
	return nil
}

// TestWorkflowRunsWhatTheChangeNeeds reads the workflow as GitHub Actions
// runs it for a pull request: the changes job's step classifies the
// changed files (run for real, in git), then each job's if: decides with
// that job's outputs. A configuration change (a Renovate bump, a new
// environment) runs validate and diff and the comment, never the tool's
// tests nor kube-apiserver's build; a change to the tool's code, its
// modules or the plugin runs the tests too. A pull request from another
// repository gets no comment job (its token cannot write).
func TestWorkflowRunsWhatTheChangeNeeds(t *testing.T) {
	wf := readPRWorkflow(t)
	for _, tt := range []struct {
		name  string
		files []string
		head  string
		want  []string
	}{
		{"Renovate's bump of dev", []string{"overlays/dev/kustomization.yaml"}, "acme/edge", []string{"changes", "comment", "validate"}},
		{"a new environment and cluster", []string{"overlays/qa/kustomization.yaml", "clusters/qa/flux/blog.yaml", "base/blog/deployment.yaml", "infrastructure/istio/release.yaml", "README.md"}, "acme/edge", []string{"changes", "comment", "validate"}},
		{"a configuration change from another repository", []string{"overlays/prod/kustomization.yaml"}, "someone/edge", []string{"changes", "validate"}},
		{"a check", []string{"validate/check/route_hosts.go"}, "acme/edge", []string{"changes", "comment", "test", "validate"}},
		{"go.sum", []string{"go.sum"}, "acme/edge", []string{"changes", "comment", "test", "validate"}},
		{"the plugin", []string{"plugin/filter/filter.go"}, "acme/edge", []string{"changes", "comment", "test", "validate"}},
		{"the oracle's module", []string{"tools/kube/go.sum"}, "acme/edge", []string{"changes", "comment", "test", "validate"}},
		{"the workflow", []string{".github/workflows/pull-request.yaml"}, "acme/edge", []string{"changes", "comment", "test", "validate"}},
		{"a code change from another repository", []string{"cmd/rollout/promote.go"}, "someone/edge", []string{"changes", "test", "validate"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			outputs := runPathsStep(t, wf, tt.files)
			ctx := map[string]string{
				"github.repository":                             "acme/edge",
				"github.event.pull_request.head.repo.full_name": tt.head,
				"needs.validate.outputs.comment":                "<!-- meshops: rendered changes -->\n...",
			}
			for k, v := range outputs {
				ctx["needs.changes.outputs."+k] = v
			}
			ran := map[string]bool{}
			// Jobs in dependency order: a job runs when its needs ran and its if: holds.
			for len(ran) < len(wf.Jobs) {
				progress := false
				for name, job := range wf.Jobs {
					if _, done := ran[name]; done {
						continue
					}
					ready, needsRan := true, true
					for _, n := range needsOf(t, job.Needs) {
						r, done := ran[n]
						ready = ready && done
						needsRan = needsRan && r
					}
					if !ready {
						continue
					}
					ran[name] = evalIf(t, job.If, ctx) && (needsRan || strings.Contains(job.If, "always()") || strings.Contains(job.If, "!cancelled()"))
					progress = true
				}
				if !progress {
					t.Fatal("the jobs' needs form a cycle or name a missing job")
				}
			}
			var got []string
			for name, r := range ran {
				if r {
					got = append(got, name)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("changed %v: jobs %v run, want %v (changes outputs %v)", tt.files, got, tt.want, outputs)
			}
			if !ran["test"] {
				for _, name := range got {
					for _, s := range wf.Jobs[name].Steps {
						if strings.Contains(s.Run, "kube-tools") || regexp.MustCompile(`\bmake (test|lint)\b`).MatchString(s.Run) {
							t.Errorf("job %s runs %q on a configuration change", name, s.Run)
						}
					}
				}
			}
		})
	}
}

// TestValidateJobOnAWarmCache: with the validator's binaries restored from
// the cache (their source hash unchanged), the validate job sets up no Go
// and builds nothing: it restores, runs make diff and make validate. On a
// miss it builds both and saves them before validating, so that a failed
// validation still leaves them for the next push.
func TestValidateJobOnAWarmCache(t *testing.T) {
	wf := readPRWorkflow(t)
	job := wf.Jobs["validate"]
	var restore string
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "actions/cache/restore@") {
			restore = s.ID
		}
	}
	if restore == "" {
		t.Fatal("the validate job restores no cache")
	}
	for _, hit := range []string{"true", "false"} {
		ctx := map[string]string{"steps." + restore + ".outputs.cache-hit": hit}
		var ran []string
		built, saved := -1, -1
		for i, s := range job.Steps {
			if !evalIf(t, s.If, ctx) {
				continue
			}
			ran = append(ran, s.Uses+s.Run)
			if strings.Contains(s.Run, "go build") {
				built = i
			}
			if strings.HasPrefix(s.Uses, "actions/cache/save@") {
				saved = i
			}
		}
		all := strings.Join(ran, "\n")
		switch hit {
		case "true":
			if strings.Contains(all, "actions/setup-go@") || built >= 0 || saved >= 0 {
				t.Errorf("on a cache hit the job still sets up Go, builds or saves:\n%s", all)
			}
		case "false":
			if built < 0 || saved < built {
				t.Errorf("on a miss the job must build, then save:\n%s", all)
			}
		}
		for _, want := range []string{"make --no-print-directory diff", "make validate OUTPUT=github", "touch bin/validate bin/rollout"} {
			if !strings.Contains(all, want) {
				t.Errorf("cache-hit %s: the job does not run %q", hit, want)
			}
		}
	}
}

// TestWorkflowPermissions: the workflow reads; the comment job alone may
// write, and only pull requests; it checks out and runs none of the pull
// request's code, finds its comment by a hidden marker the validate job
// puts first, and updates it.
func TestWorkflowPermissions(t *testing.T) {
	wf := readPRWorkflow(t)
	if fmt.Sprint(wf.Permissions) != "map[contents:read]" {
		t.Errorf("workflow permissions %v, want contents: read", wf.Permissions)
	}
	writers := 0
	for name, job := range wf.Jobs {
		if job.Permissions == nil {
			continue
		}
		writers++
		if name != "comment" || fmt.Sprint(job.Permissions) != "map[pull-requests:write]" {
			t.Errorf("job %s has permissions %v: only the comment job may have pull-requests: write", name, job.Permissions)
		}
		for _, s := range job.Steps {
			if s.Uses != "" || strings.Contains(s.Run, "make ") {
				t.Errorf("the comment job runs %s%s: it must run none of the pull request's code", s.Uses, s.Run)
			}
		}
	}
	if writers != 1 {
		t.Errorf("%d jobs set permissions, want the comment job alone", writers)
	}
	comment := wf.Jobs["comment"]
	var post string
	for _, s := range comment.Steps {
		post += s.Run
	}
	var marker string
	if m := regexp.MustCompile(`marker='(<!--[^']*-->)'`).FindStringSubmatch(post); m != nil {
		marker = m[1]
	}
	if marker == "" || !strings.Contains(post, "--method PATCH") || !strings.Contains(post, "--method POST") || !strings.Contains(post, "gh api --paginate") {
		t.Errorf("the comment job must find its comment by a marker and update it, else post one:\n%s", post)
	}
	var diff string
	for _, s := range wf.Jobs["validate"].Steps {
		if s.ID == "diff" {
			diff = s.Run
		}
	}
	if !strings.Contains(diff, "echo \""+marker+"\"") || !strings.Contains(diff, "GITHUB_STEP_SUMMARY") {
		t.Errorf("the validate job's diff step must start the comment with %s and write the job summary", marker)
	}
}
