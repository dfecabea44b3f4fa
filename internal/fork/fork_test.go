package fork_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/fork"
	"meshops.dev/meshops/internal/testrepo"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

func TestParseRefusesBadInput(t *testing.T) {
	bad := []struct{ repo, registry, domain, want string }{
		{"", "", "", "give at least one of"},
		{"not a url", "", "", "is not a git URL"},
		{"ftp://git.fork.test/a.git", "", "", `scheme "ftp"`},
		{"https://git.fork.test", "", "", "names no repository path"},
		{"https://me:hunter2@git.fork.test/a.git", "", "", "carries a password"},
		{"", "registry.fork.test/a/b:latest", "", "carries a tag (:latest)"},
		{"", "registry.fork.test:5443/a/b:v1", "", "carries a tag (:v1)"},
		{"", "registry.fork.test/a/b@sha256:" + strings.Repeat("a", 64), "", "carries a digest"},
		{"", "edge-headers", "", "has no host"},
		{"", "platform/edge-headers", "", "has no host"},
		{"", "https://registry.fork.test/a", "", "only the oci:// scheme"},
		{"", "Registry.Fork.test/A", "", "REGISTRY"},
		{"", "", "bad_domain.test", "is not a DNS name"},
		{"", "", "localhost", "is not a DNS name"},
		{"", "", "-x.test", "is not a DNS name"},
	}
	for _, tt := range bad {
		_, err := fork.Parse(tt.repo, tt.registry, tt.domain)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q, %q, %q) = %v, want one line containing %q", tt.repo, tt.registry, tt.domain, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	good := []struct {
		repo, registry, domain string
		want                   fork.Values
	}{
		{"git@git.fork.test:platform/edge.git", "oci://registry.fork.test:5443/platform/edge-headers", "*.apps.fork.test",
			fork.Values{Repo: "ssh://git@git.fork.test/platform/edge.git", Registry: "registry.fork.test:5443/platform/edge-headers", Domain: "apps.fork.test"}},
		{"https://git.fork.test/platform/edge.git", "localhost:5000/edge", "fork.test",
			fork.Values{Repo: "https://git.fork.test/platform/edge.git", Registry: "localhost:5000/edge", Domain: "fork.test"}},
		{"ssh://git@git.fork.test:2222/platform/edge.git", "", "",
			fork.Values{Repo: "ssh://git@git.fork.test:2222/platform/edge.git"}},
	}
	for _, tt := range good {
		got, err := fork.Parse(tt.repo, tt.registry, tt.domain)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q, %q, %q) = %+v, %v; want %+v", tt.repo, tt.registry, tt.domain, got, err, tt.want)
		}
	}
}

// commentLines returns every comment line of the YAML files under dir.
func commentLines(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	comment := regexp.MustCompile(`(?m)^\s*#.*$`)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = comment.FindAllString(string(data), -1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rendered returns what every target of the repository at dir renders.
func rendered(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree, err := render.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := render.Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tg := range targets {
		res, err := kustomize.Render(tree, tg)
		if err != nil {
			t.Fatal(err)
		}
		y, err := res.Resources.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		out[tg.Dir] = string(y)
	}
	return out
}

// TestForkTheRepository forks a copy of this repository, whatever values it
// ships with, and checks every place a fork's value must reach.
func TestForkTheRepository(t *testing.T) {
	dir := testrepo.Copy(t)
	comments := commentLines(t, dir)
	v, err := fork.Parse(testrepo.Repo, testrepo.Registry, testrepo.Domain)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fork.Apply(dir, v)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(p.Changes) == 0 {
		t.Fatal("Apply changed nothing")
	}
	for _, c := range p.Changes {
		if c.Line < 1 || c.Old == c.New {
			t.Errorf("bad change %v", c)
		}
		data, _ := os.ReadFile(filepath.Join(dir, c.File))
		if line := strings.Split(string(data), "\n")[c.Line-1]; !strings.Contains(line, c.New) {
			t.Errorf("%v: line %d is now %q", c, c.Line, line)
		}
	}
	if got := commentLines(t, dir); len(got) != len(comments) {
		t.Errorf("YAML files: %d before, %d after", len(comments), len(got))
	} else {
		for f, want := range comments {
			if strings.Join(got[f], "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: comments changed:\n%q\nwant\n%q", f, got[f], want)
			}
		}
	}

	res, err := pipeline.Run(dir, pipeline.Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() {
		t.Errorf("the fork does not validate: %v", res.Findings)
	}
	hosts := regexp.MustCompile(`(?m)^\s+- ([a-z0-9.*-]+\.[a-z]+)$`)
	repoURL := regexp.MustCompile(`(?m)^\s+(?:url|repoURL): (\S+)$`)
	pluginURL := regexp.MustCompile(`(?m)^\s+url: (oci://\S+)$`)
	var sawHost, sawRepo, sawPlugin bool
	// An Argo CD source with a chart (Istio's) is a Helm repository, not the
	// fork: rendered keys are sorted, so chart: comes before repoURL:, with
	// only the source's helm: options (releaseName) between them.
	chartURL := regexp.MustCompile(`(?m)^(\s+)chart: \S+\n(?:\s+helm:\n(?:\s+releaseName: \S+\n))?\s+repoURL: (\S+)$`)
	for target, y := range rendered(t, dir) {
		charts := map[string]bool{}
		for _, m := range chartURL.FindAllStringSubmatch(y, -1) {
			charts[m[2]] = true
		}
		for _, m := range repoURL.FindAllStringSubmatch(y, -1) {
			if strings.HasPrefix(m[1], "oci://") || charts[m[1]] {
				continue
			}
			sawRepo = true
			if m[1] != testrepo.Repo {
				t.Errorf("%s: repository URL %s, want %s", target, m[1], testrepo.Repo)
			}
		}
		for _, m := range pluginURL.FindAllStringSubmatch(y, -1) {
			sawPlugin = true
			if !strings.HasPrefix(m[1], "oci://"+testrepo.Registry+":") {
				t.Errorf("%s: plugin url %s is not in %s", target, m[1], testrepo.Registry)
			}
		}
		if strings.Contains(y, "kind: Gateway") {
			for _, m := range hosts.FindAllStringSubmatch(y, -1) {
				if strings.HasSuffix(m[1], ".local") {
					continue
				}
				sawHost = true
				if !strings.HasSuffix(m[1], "."+testrepo.Domain) {
					t.Errorf("%s: host %s is not in %s", target, m[1], testrepo.Domain)
				}
			}
		}
	}
	if !sawHost || !sawRepo || !sawPlugin {
		t.Errorf("the fork renders no host (%v), repository URL (%v) or plugin url (%v)", sawHost, sawRepo, sawPlugin)
	}

	// A second run with the same values changes nothing; one with other
	// values finds the first run's values and replaces them.
	if p, err := fork.Apply(dir, v); err != nil || len(p.Files) != 0 {
		t.Errorf("second Apply: %v, %d files changed", err, len(p.Files))
	}
	again, err := fork.NewPlan(dir, fork.Values{Registry: "registry.other.test/edge"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Current.Repo != testrepo.Repo || again.Current.Registry != testrepo.Registry || again.Current.Domain != testrepo.Domain {
		t.Errorf("detected %+v on the fork", again.Current)
	}
	if len(again.Files) == 0 {
		t.Error("a new registry changes no file")
	}
}

// TestForkRefusesWhatDoesNotValidate: a DNS-valid domain that makes every
// host longer than Istio's 255-byte limit. Nothing may change.
func TestForkRefusesWhatDoesNotValidate(t *testing.T) {
	dir := testrepo.Copy(t)
	before := snapshot(t, dir)
	domain := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	v, err := fork.Parse("", "", domain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fork.Apply(dir, v)
	var rejected *fork.Rejected
	if !errors.As(err, &rejected) {
		t.Fatalf("Apply = %v, want *fork.Rejected", err)
	}
	for _, f := range rejected.Findings {
		if f.Code != "IS002" || !strings.Contains(f.Message, "too long") {
			t.Errorf("unexpected finding %s", f)
		}
	}
	if len(rejected.Findings) == 0 {
		t.Error("no finding")
	}
	if after := snapshot(t, dir); !bytes.Equal(after, before) {
		t.Error("a refused fork changed files")
	}
}

// TestForkFixture forks testdata/split: two hosts under one domain, set by
// a JSON patch in YAML and one inline as JSON, a comment and a look-alike
// value that must stay, and entry points that spell one repository (with a
// port) two ways.
func TestForkFixture(t *testing.T) {
	p, err := fork.NewPlan("testdata/split", fork.Values{Repo: "https://git.fork.test/a/b.git", Domain: "apps.fork.test"})
	if err != nil {
		t.Fatal(err)
	}
	// Two spellings of one repository, once each: the tie goes to the
	// smaller string, and both are replaced.
	if p.Current.Repo != "https://git.acme.test:2222/platform/web" || len(p.Current.RepoSpellings) != 2 {
		t.Errorf("repo = %q, spellings %q", p.Current.Repo, p.Current.RepoSpellings)
	}
	if p.Current.Domain != "web.acme.test" {
		t.Errorf("domain = %q (hosts %v)", p.Current.Domain, p.Current.Hosts)
	}
	want := []string{
		"clusters/dev/argocd/application.yaml:10: https://git.acme.test:2222/platform/web -> https://git.fork.test/a/b.git",
		"clusters/dev/flux/gitrepository.yaml:7: ssh://git@git.acme.test:2222/platform/web.git -> https://git.fork.test/a/b.git",
		"overlays/dev/kustomization.yaml:13: dev.web.acme.test -> dev.apps.fork.test",
		"overlays/dev/kustomization.yaml:16: internal.web.acme.test -> internal.apps.fork.test",
		"overlays/dev/kustomization.yaml:20: dev.web.acme.test -> dev.apps.fork.test",
		"overlays/dev/kustomization.yaml:20: internal.web.acme.test -> internal.apps.fork.test",
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The comment naming the old host and the unrelated look-alike stay.
	out := string(p.Files["overlays/dev/kustomization.yaml"])
	for _, keep := range []string{"# dev.web.acme.test is the dev host", "notdev.web.acme.test.example"} {
		if !strings.Contains(out, keep) {
			t.Errorf("lost %q:\n%s", keep, out)
		}
	}
}

func snapshot(t *testing.T, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.WriteString(p + "\n")
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestForkAfterFluxBootstrap: flux bootstrap adds its own GitRepository,
// spelling the repository as ssh://git@host/org/repo. make init replaces
// that spelling too, so the fork still validates (GO003 compares them).
func TestForkAfterFluxBootstrap(t *testing.T) {
	dir := testrepo.Copy(t)
	before, err := fork.NewPlan(dir, fork.Values{Domain: testrepo.Domain})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(before.Current.Repo)
	if err != nil || u.Host == "" {
		t.Fatalf("the repository's entry points name %q", before.Current.Repo)
	}
	bootstrap := "ssh://git@" + u.Host + strings.TrimSuffix(u.Path, ".git")
	sync := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: main\n  secretRef:\n    name: flux-system\n  url: " + bootstrap + "\n"
	entries, _ := filepath.Glob(filepath.Join(dir, "clusters", "*", "flux"))
	if len(entries) == 0 {
		t.Skip("the repository has no clusters/*/flux entry point")
	}
	gotk := filepath.Join(entries[0], "flux-system", "gotk-sync.yaml")
	if err := os.MkdirAll(filepath.Dir(gotk), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gotk, []byte(sync), 0o644); err != nil {
		t.Fatal(err)
	}
	v, _ := fork.Parse(testrepo.Repo, "", "")
	if _, err := fork.Apply(dir, v); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if data, _ := os.ReadFile(gotk); !strings.Contains(string(data), "  url: "+testrepo.Repo+"\n") {
		t.Errorf("the bootstrap GitRepository keeps its URL:\n%s", data)
	}
}
