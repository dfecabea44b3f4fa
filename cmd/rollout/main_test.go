package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/internal/testrepo"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// copyRepo returns a fork of this repository (internal/testrepo: its own
// repository URL, a plugin registry with a port, its own hosts) in a fresh git
// repository with one commit on main. Tests derive every value from it.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := testrepo.Fork(t)
	testrepo.Commit(t, dst, "start")
	return dst
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return testrepo.Git(t, dir, args...)
}

// overlayPins returns the images: entries of overlays/<env>.
func overlayPins(t *testing.T, repo, env string) []pins.Pin {
	t.Helper()
	f, err := readPins(filepath.Join(repo, "overlays", env, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return f.Pins()
}

// pluginPin is the overlay's oci:// entry; appPin its first other entry.
func pluginPin(t *testing.T, repo, env string) pins.Pin {
	t.Helper()
	for _, p := range overlayPins(t, repo, env) {
		if strings.HasPrefix(p.Name, "oci://") {
			return p
		}
	}
	t.Fatalf("overlays/%s pins no oci:// image", env)
	return pins.Pin{}
}

func appPin(t *testing.T, repo, env string) pins.Pin {
	t.Helper()
	for _, p := range overlayPins(t, repo, env) {
		if !strings.HasPrefix(p.Name, "oci://") && p.NewTag != "" {
			return p
		}
	}
	t.Fatalf("overlays/%s pins no container image by tag", env)
	return pins.Pin{}
}

// changedLine matches a one-line change of key from old to new in a git diff -U0.
func changedLine(key, old, new string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^-\s+` + key + `: ` + regexp.QuoteMeta(old) + `\n\+\s+` + key + `: ` + regexp.QuoteMeta(new) + `$`)
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
			res, err := kustomize.Render(tree, tg)
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
	app := appPin(t, repo, "dev")
	code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", app.Name, "--tag", "9.9.9-test")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	d := git(t, repo, "diff", "-U0", "--no-color")
	if strings.Count(d, "\n-") != 2 || !changedLine("newTag", app.NewTag, "9.9.9-test").MatchString(d) || strings.Count(d, "diff --git") != 1 {
		t.Errorf("want exactly one changed line in overlays/dev, got:\n%s", d)
	}
	after := renders(t, repo)
	for dir := range before {
		if dir != "overlays/dev" && before[dir] != after[dir] {
			t.Errorf("%s renders differently after bumping dev", dir)
		}
	}
	app.NewTag = "9.9.9-test"
	if !strings.Contains(after["overlays/dev"], "image: "+app.Ref()+"\n") {
		t.Errorf("dev does not render the new tag")
	}
}

func TestBumpPluginDigestKeepsNewName(t *testing.T) {
	repo := copyRepo(t)
	plugin := pluginPin(t, repo, "prod")
	if !strings.HasPrefix(plugin.NewName, "oci://"+testrepo.Registry) {
		t.Fatalf("the fork's prod plugin entry is %+v, want newName in %s", plugin, testrepo.Registry)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "prod", "--image", plugin.Name, "--tag", "v9.9.9", "--digest", digest)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if !strings.Contains(renders(t, repo)["overlays/prod"], "url: "+plugin.NewName+":v9.9.9@"+digest+"\n") {
		t.Errorf("prod does not render the pinned digest:\n%s", renders(t, repo)["overlays/prod"])
	}
	after := pluginPin(t, repo, "prod")
	if after.Name != plugin.Name || after.NewName != plugin.NewName || after.NewTag != "v9.9.9" || after.Digest != digest {
		t.Errorf("entry is %+v after the bump", after)
	}
	data, _ := os.ReadFile(filepath.Join(repo, "overlays/prod/kustomization.yaml"))
	if !regexp.MustCompile(`(?m)^\s+newName: ` + regexp.QuoteMeta(plugin.NewName) + `\n\s+newTag: v9\.9\.9\n\s+digest: ` + digest + `$`).Match(data) {
		t.Errorf("entry lost its newName or order:\n%s", data)
	}
}

func TestBumpRefusesAndLeavesFilesAlone(t *testing.T) {
	repo := copyRepo(t)
	app := appPin(t, repo, "dev").Name
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--env", "no-such-env", "--image", app, "--tag", "1"}, 2, `unknown environment "no-such-env"`},
		{[]string{"--env", "dev", "--image", "no-such-image", "--tag", "7"}, 2, `no images: entry for "no-such-image"`},
		{[]string{"--env", "dev", "--image", app, "--tag", "1.27:4"}, 2, "is not a valid image tag"},
		{[]string{"--env", "dev", "--image", app, "--tag", "latest"}, 2, "latest is no pin"},
		{[]string{"--env", "dev", "--image", app, "--digest", "sha256:xyz"}, 2, "is not of the form sha256:"},
		{[]string{"--env", "../base", "--image", app, "--tag", "1"}, 2, "unknown environment"},
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

func TestPromote(t *testing.T) {
	repo := copyRepo(t)
	plugin := pluginPin(t, repo, "dev")
	staged := pluginPin(t, repo, "staging")
	short := plugin.Name[strings.LastIndex(plugin.Name, "/")+1:]
	digest := "sha256:" + strings.Repeat("ef", 32)
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", short, "--tag", "v9.9.9", "--digest", digest); code != 0 {
		t.Fatalf("bump: %d %s%s", code, out, errs)
	}
	git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "bump dev")
	before := renders(t, repo)
	code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	promoted := staged
	promoted.NewTag, promoted.Digest = "v9.9.9", digest
	if !strings.Contains(out, staged.Ref()+" -> "+promoted.Ref()) {
		t.Errorf("promote did not print %s -> %s:\n%s", staged.Ref(), promoted.Ref(), out)
	}
	if got := pluginPin(t, repo, "staging"); got != promoted {
		t.Errorf("staging's plugin entry is %+v, want %+v", got, promoted)
	}
	d := git(t, repo, "diff", "-U0", "--no-color")
	for _, want := range []string{`(?m)^\+\s+newTag: v9\.9\.9$`, `(?m)^\+\s+digest: ` + digest + `$`} {
		if strings.Count(d, "diff --git") != 1 || !strings.Contains(d, "overlays/staging/") || !regexp.MustCompile(want).MatchString(d) {
			t.Errorf("want staging's plugin pin (tag and digest) changed, and nothing else:\n%s", d)
		}
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
	app := appPin(t, repo, "staging")
	bumped := app
	bumped.NewTag, bumped.Digest = "9.9.9-test", ""
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "staging", "--image", app.Name, "--tag", bumped.NewTag); code != 0 {
		t.Fatalf("bump: %d %s%s", code, out, errs)
	}
	code, out, errs := rollout(t, "diff", "--repo", repo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Both clusters that deploy staging show the change, under the entry
	// point that applies it.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`=== clusters/staging/argocd\n\(blog-staging -> overlays/staging\) Deployment [a-z0-9-]+/[a-z0-9-]+: spec\.template\.spec\.containers\[\d+\]\.image ` + regexp.QuoteMeta(app.Ref()+" -> "+bumped.Ref()) + "\n"),
		regexp.MustCompile(`=== clusters/staging/flux\n\(blog -> overlays/staging\) Deployment [a-z0-9-]+/[a-z0-9-]+: spec\.template\.spec\.containers\[\d+\]\.image ` + regexp.QuoteMeta(app.Ref()+" -> "+bumped.Ref()) + "\n"),
	} {
		if !want.MatchString(out) {
			t.Errorf("diff output lacks the image change %s -> %s (%s):\n%s", app.Ref(), bumped.Ref(), want, out)
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

// TestPromoteCarriesTheDigest: staging pins the plugin by tag and digest;
// promoting it to prod carries both, without asking the registry.
func TestPromoteCarriesTheDigest(t *testing.T) {
	repo := copyRepo(t)
	digest := "sha256:" + strings.Repeat("cd", 32)
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "staging", "--image", pluginPin(t, repo, "staging").Name, "--tag", "v9.9.9", "--digest", digest); code != 0 {
		t.Fatalf("bump staging: %d %s%s", code, out, errs)
	}
	if code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "staging", "--to", "prod"); code != 0 {
		t.Fatalf("promote staging to prod: %d %s%s", code, out, errs)
	}
	if got := pluginPin(t, repo, "prod"); got.NewTag != "v9.9.9" || got.Digest != digest {
		t.Errorf("prod's plugin entry is %+v, want tag v9.9.9 and digest %s", got, digest)
	}
	if !strings.Contains(renders(t, repo)["overlays/prod"], "url: "+pluginPin(t, repo, "prod").NewName+":v9.9.9@"+digest+"\n") {
		t.Error("prod does not render the promoted digest")
	}

}
