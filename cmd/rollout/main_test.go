package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

// copyRepo copies the deployable half of this repository into a fresh git
// repository with one commit on main, and returns its path.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"base", "overlays", "clusters", "infrastructure"} {
		src := filepath.Join("..", "..", dir)
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	git(t, dst, "init", "-q", "-b", "main")
	git(t, dst, "add", "-A")
	git(t, dst, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "start")
	return dst
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func rollout(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// renders returns what every overlay of the repository renders.
func renders(t *testing.T, repo string) map[string]string {
	t.Helper()
	tree, err := render.LoadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := render.Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tg := range targets {
		if tg.Kind == render.Overlay {
			res, err := render.Render(tree, tg)
			if err != nil {
				t.Fatal(err)
			}
			y, _ := res.Resources.AsYaml()
			out[tg.Dir] = string(y)
		}
	}
	return out
}

func TestBumpChangesOneLine(t *testing.T) {
	repo := copyRepo(t)
	before := renders(t, repo)
	code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", "docker.io/nginxinc/nginx-unprivileged", "--tag", "1.27.4-alpine")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	d := git(t, repo, "diff", "-U0", "--no-color")
	if strings.Count(d, "\n-    ") != 1 || !strings.Contains(d, "-    newTag: 1.27.3-alpine\n+    newTag: 1.27.4-alpine\n") || strings.Count(d, "diff --git") != 1 {
		t.Errorf("want exactly one changed line in overlays/dev, got:\n%s", d)
	}
	after := renders(t, repo)
	for dir := range before {
		if dir != "overlays/dev" && before[dir] != after[dir] {
			t.Errorf("%s renders differently after bumping dev", dir)
		}
	}
	if !strings.Contains(after["overlays/dev"], "image: docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine") {
		t.Errorf("dev does not render the new tag")
	}
}

func TestBumpPluginDigestKeepsNewName(t *testing.T) {
	repo := copyRepo(t)
	digest := "sha256:" + strings.Repeat("ab", 32)
	code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "prod", "--image", "oci://ghcr.io/your-org/meshops-plugin", "--tag", "v0.2.0", "--digest", digest)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if !strings.Contains(renders(t, repo)["overlays/prod"], "url: oci://ghcr.io/your-org/meshops-plugin:v0.2.0@"+digest) {
		t.Errorf("prod does not render the pinned digest")
	}
	data, _ := os.ReadFile(filepath.Join(repo, "overlays/prod/kustomization.yaml"))
	if !strings.Contains(string(data), "    newName: oci://ghcr.io/your-org/meshops-plugin\n    newTag: v0.2.0\n    digest: "+digest+"\n") {
		t.Errorf("entry lost its newName or order:\n%s", data)
	}
}

func TestBumpRefusesAndLeavesFilesAlone(t *testing.T) {
	repo := copyRepo(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--env", "qa", "--image", "nginx-unprivileged", "--tag", "1"}, 2, `unknown environment "qa"`},
		{[]string{"--env", "dev", "--image", "redis", "--tag", "7"}, 2, `no images: entry for "redis"`},
		{[]string{"--env", "dev", "--image", "nginx-unprivileged", "--tag", "1.27:4"}, 2, "is not a valid image tag"},
		{[]string{"--env", "dev", "--image", "nginx-unprivileged", "--digest", "sha256:xyz"}, 2, "is not of the form sha256:"},
		{[]string{"--env", "../base", "--image", "nginx-unprivileged", "--tag", "1"}, 2, "unknown environment"},
	}
	for _, tt := range tests {
		code, _, errs := rollout(t, append([]string{"bump", "--repo", repo}, tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("bump %v: exit %d, %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
	if d := git(t, repo, "status", "--porcelain"); d != "" {
		t.Errorf("refused bumps changed files:\n%s", d)
	}
}

func TestBumpRestoresOnFailedValidation(t *testing.T) {
	repo := copyRepo(t)
	// A hand edit that breaks dev: the new tag is fine, the overlay is not.
	file := filepath.Join(repo, "overlays/dev/kustomization.yaml")
	data, _ := os.ReadFile(file)
	broken := strings.Replace(string(data), "    count: 1", "    count: 1\nnamespace: web", 1)
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", "nginx-unprivileged", "--tag", "1.27.4-alpine")
	if code != 1 || !strings.Contains(errs, "overlays/dev no longer validates") {
		t.Fatalf("exit %d, %s", code, errs)
	}
	if now, _ := os.ReadFile(file); string(now) != broken {
		t.Errorf("file not restored:\n%s", now)
	}
	if matches, _ := filepath.Glob(filepath.Join(repo, "overlays/dev/.kustomization*")); len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestPromote(t *testing.T) {
	repo := copyRepo(t)
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", "meshops-plugin", "--tag", "v0.3.0"); code != 0 {
		t.Fatalf("bump: %d %s%s", code, out, errs)
	}
	git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "bump dev")
	before := renders(t, repo)
	code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if !strings.Contains(out, "oci://ghcr.io/your-org/meshops-plugin:v0.1.0 -> oci://ghcr.io/your-org/meshops-plugin:v0.3.0") {
		t.Errorf("promote did not print the change:\n%s", out)
	}
	d := git(t, repo, "diff", "-U0", "--no-color")
	if strings.Count(d, "diff --git") != 1 || !strings.Contains(d, "-    newTag: v0.1.0\n+    newTag: v0.3.0\n") {
		t.Errorf("want one changed line in staging:\n%s", d)
	}
	after := renders(t, repo)
	if before["overlays/prod"] != after["overlays/prod"] || before["overlays/dev"] != after["overlays/dev"] {
		t.Error("promote changed what dev or prod renders")
	}
	if code, out, _ := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging"); code != 0 || !strings.Contains(out, "already runs") {
		t.Errorf("second promote: %d %s", code, out)
	}
}

func TestDiffShowsExactlyTheBump(t *testing.T) {
	repo := copyRepo(t)
	git(t, repo, "checkout", "-q", "-b", "bump")
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "staging", "--image", "nginx-unprivileged", "--tag", "1.27.4-alpine"); code != 0 {
		t.Fatalf("bump: %d %s%s", code, out, errs)
	}
	code, out, errs := rollout(t, "diff", "--repo", repo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Both clusters that deploy staging show the change, under the entry
	// point that applies it.
	for _, want := range []string{
		"=== clusters/staging/argocd\n(blog-staging -> overlays/staging) Deployment blog/blog: spec.template.spec.containers[0].image docker.io/nginxinc/nginx-unprivileged:1.27.3-alpine -> docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine\n",
		"=== clusters/staging/flux\n(blog -> overlays/staging) Deployment blog/blog: spec.template.spec.containers[0].image docker.io/nginxinc/nginx-unprivileged:1.27.3-alpine -> docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output does not contain\n%s\ngot\n%s", want, out)
		}
	}
	for _, line := range []string{"clusters/dev/flux: no changes", "clusters/prod/argocd: no changes", "clusters/staging/flux: 1 changed, 0 added, 0 removed", "clusters/staging/argocd: 1 changed, 0 added, 0 removed"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("summary lacks %q:\n%s", line, out)
		}
	}
	if strings.Count(out, "-      - image:") != 2 || strings.Count(out, "+      - image:") != 2 {
		t.Errorf("the unified diff should hold exactly the image line:\n%s", out)
	}
	if d := git(t, repo, "status", "--porcelain"); d != " M overlays/staging/kustomization.yaml\n" {
		t.Errorf("diff touched the work tree: %q", d)
	}
}

func TestDiffErrors(t *testing.T) {
	repo := copyRepo(t)
	if code, _, errs := rollout(t, "diff", "--repo", repo, "--base", "no-such-ref"); code != 2 || !strings.Contains(errs, "no-such-ref") {
		t.Errorf("exit %d, %s", code, errs)
	}
}
