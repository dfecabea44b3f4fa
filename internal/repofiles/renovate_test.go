package repofiles

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/internal/testrepo"
)

// renovateConfig is the part of renovate.json the tests read.
type renovateConfig struct {
	EnabledManagers []string `json:"enabledManagers"`
	IgnorePaths     []string `json:"ignorePaths"`
	CustomManagers  []struct {
		CustomType           string   `json:"customType"`
		ManagerFilePatterns  []string `json:"managerFilePatterns"`
		MatchStrings         []string `json:"matchStrings"`
		MatchStringsStrategy string   `json:"matchStringsStrategy"`
		DatasourceTemplate   string   `json:"datasourceTemplate"`
	} `json:"customManagers"`
	PackageRules []struct {
		MatchFileNames    []string `json:"matchFileNames"`
		MatchManagers     []string `json:"matchManagers"`
		MatchPackageNames []string `json:"matchPackageNames"`
		PinDigests        *bool    `json:"pinDigests"`
		GroupName         string   `json:"groupName"`
		Enabled           *bool    `json:"enabled"`
	} `json:"packageRules"`
}

func readRenovate(t *testing.T) renovateConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg renovateConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	return cfg
}

// renovateRegex compiles a Renovate pattern: /.../ is a regular expression.
func renovateRegex(t *testing.T, p string) *regexp.Regexp {
	t.Helper()
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] != '/' {
		t.Fatalf("pattern %q is not a /regex/", p)
	}
	re, err := regexp.Compile(p[1 : len(p)-1])
	if err != nil {
		t.Fatalf("pattern %q: %v", p, err)
	}
	return re
}

// dep is one dependency a regex manager extracts.
type dep struct{ name, value, digest string }

func (d dep) String() string { return fmt.Sprintf("%s %s %s", d.name, d.value, d.digest) }

// extract replays every docker regex manager's matchStrings over src the way
// Renovate's default strategy ("any") does: each pattern, every match.
func extract(t *testing.T, cfg renovateConfig, src string) []dep {
	t.Helper()
	var out []dep
	for _, m := range cfg.CustomManagers {
		if m.DatasourceTemplate != "docker" {
			continue
		}
		if m.MatchStringsStrategy != "" && m.MatchStringsStrategy != "any" {
			t.Fatalf("matchStringsStrategy %q: the test replays only \"any\"", m.MatchStringsStrategy)
		}
		for _, p := range m.MatchStrings {
			re, err := regexp.Compile(p)
			if err != nil {
				t.Fatalf("matchString %q: %v", p, err)
			}
			for _, sm := range re.FindAllStringSubmatch(src, -1) {
				d := dep{name: sm[re.SubexpIndex("depName")], value: sm[re.SubexpIndex("currentValue")]}
				if i := re.SubexpIndex("currentDigest"); i >= 0 {
					d.digest = sm[i]
				}
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// TestRenovateExtractsEachImageOnce replays the regex managers over every
// overlay of this repository and of a fork whose plugin registry has a port:
// each pinned image is extracted exactly once, under the name the docker
// datasource looks up (no oci:// scheme), with its tag and digest.
func TestRenovateExtractsEachImageOnce(t *testing.T) {
	cfg := readRenovate(t)
	for _, repo := range []struct{ name, dir string }{{"repository", root}, {"fork", testrepo.Fork(t)}} {
		files, _ := filepath.Glob(filepath.Join(repo.dir, "overlays", "*", "kustomization.yaml"))
		if len(files) == 0 {
			t.Fatalf("%s: no overlay", repo.name)
		}
		sawPort := false
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := pins.Parse(file, src)
			if err != nil {
				t.Fatal(err)
			}
			var want []dep
			for _, p := range f.Pins() {
				if p.NewTag == "" {
					continue
				}
				n := p.Name
				if p.NewName != "" {
					n = p.NewName
				}
				want = append(want, dep{strings.TrimPrefix(n, "oci://"), p.NewTag, p.Digest})
			}
			sort.Slice(want, func(i, j int) bool { return want[i].String() < want[j].String() })
			got := extract(t, cfg, string(src))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s: extracted\n  %v\nwant each pinned image once\n  %v", repo.name, file, got, want)
			}
			for _, d := range got {
				ref, err := name.NewRepository(d.name, name.StrictValidation)
				if err != nil || strings.Contains(d.name, "://") {
					t.Errorf("%s: the docker datasource cannot look up %q: %v", file, d.name, err)
				}
				if err == nil && strings.Contains(ref.RegistryStr(), ":") {
					sawPort = true
				}
			}
		}
		if repo.name == "fork" && !sawPort {
			t.Errorf("the fork's overlays extract no image from a registry with a port (testrepo.Registry is %s)", testrepo.Registry)
		}
	}
}

// TestRenovateBumpsDevOnly: the image managers read overlays/dev only, the
// kustomize manager (which would extract oci:// entries a second time) is
// off, and fixtures are ignored.
func TestRenovateBumpsDevOnly(t *testing.T) {
	cfg := readRenovate(t)
	for _, m := range cfg.EnabledManagers {
		if m == "kustomize" {
			t.Error("the kustomize manager is enabled: it extracts the oci:// plugin entry with its scheme, besides the regex manager")
		}
	}
	envs, _ := filepath.Glob(filepath.Join(root, "overlays", "*", "kustomization.yaml"))
	for _, m := range cfg.CustomManagers {
		for _, env := range envs {
			rel, _ := filepath.Rel(root, env)
			rel = filepath.ToSlash(rel)
			matched := false
			for _, p := range m.ManagerFilePatterns {
				matched = matched || renovateRegex(t, p).MatchString(rel)
			}
			if isDev := strings.HasPrefix(rel, "overlays/dev/"); matched != isDev {
				t.Errorf("custom manager reads %s: %v, want %v (only dev)", rel, matched, isDev)
			}
		}
	}
	ignored := false
	for _, p := range cfg.IgnorePaths {
		ignored = ignored || strings.Contains(p, "testdata")
	}
	if !ignored {
		t.Errorf("ignorePaths %v leaves testdata/ fixtures to Renovate", cfg.IgnorePaths)
	}
}

// TestRenovateSupplyChainRules: digests for the Dockerfile and the Actions,
// and the groups that must move together.
func TestRenovateSupplyChainRules(t *testing.T) {
	cfg := readRenovate(t)
	pinned := map[string]bool{}
	groups := map[string][]string{}
	for _, r := range cfg.PackageRules {
		if r.PinDigests != nil && *r.PinDigests {
			for _, m := range r.MatchManagers {
				pinned[m] = true
			}
		}
		if r.GroupName != "" {
			groups[r.GroupName] = append(r.MatchFileNames, r.MatchPackageNames...)
		}
	}
	for _, m := range []string{"dockerfile", "github-actions"} {
		if !pinned[m] {
			t.Errorf("no packageRule pins %s dependencies by digest", m)
		}
	}
	want := [][]string{{"Dockerfile", "plugin/go.mod"}, {"tools/kube/go.mod", `/^k8s\.io//`, `/^go\.etcd\.io//`}}
	for _, w := range want {
		found := false
		for _, g := range groups {
			found = found || strings.Join(g, " ") == strings.Join(w, " ")
		}
		if !found {
			t.Errorf("no group rule for %v (groups: %v)", w, groups)
		}
	}
}

// TestRenovateKeepsDevOnTags: Renovate's image bumps keep dev the way make
// promote expects it (README, "Roll out"): by tag, its digest resolved at
// promotion. No rule pins digests for the regex managers, and each docker
// regex manager captures a digest after newTag, so that a digest someone
// pinned in dev moves with its tag instead of going stale.
func TestRenovateKeepsDevOnTags(t *testing.T) {
	cfg := readRenovate(t)
	for i, r := range cfg.PackageRules {
		if r.PinDigests == nil || !*r.PinDigests {
			continue
		}
		if len(r.MatchManagers) == 0 {
			t.Errorf("packageRules[%d] pins digests for every manager: dev's images would be pinned by digest", i)
		}
		for _, m := range r.MatchManagers {
			if strings.Contains(m, "regex") {
				t.Errorf("packageRules[%d] pins digests for %s: dev's images would be pinned by digest", i, m)
			}
		}
	}
	for i, m := range cfg.CustomManagers {
		if m.DatasourceTemplate != "docker" {
			continue
		}
		for j, p := range m.MatchStrings {
			if !strings.Contains(p, "(?<currentDigest>") {
				t.Errorf("customManagers[%d].matchStrings[%d] captures no currentDigest: a digest in dev would not move with its tag", i, j)
			}
		}
	}
}

// TestRenovateNeverMovesOneIstio: the Istio modules the validator runs and
// the Istio charts the repository installs move together, by hand; a rule
// disables Renovate for all of them, so it never opens a bump of one alone.
func TestRenovateNeverMovesOneIstio(t *testing.T) {
	cfg := readRenovate(t)
	want := []string{"istio.io/istio", "istio.io/api", "base", "istiod", "gateway"}
	for _, r := range cfg.PackageRules {
		if r.Enabled == nil || *r.Enabled || len(r.MatchFileNames) > 0 || len(r.MatchManagers) > 0 {
			continue
		}
		missing := false
		for _, w := range want {
			if !matchesPackage(t, r.MatchPackageNames, w) {
				missing = true
			}
		}
		if !missing {
			return
		}
	}
	t.Errorf("no packageRule disables %v together in every file and manager", want)
}

// matchesPackage reports whether a matchPackageNames list names pkg:
// exactly, or by a /regex/.
func matchesPackage(t *testing.T, patterns []string, pkg string) bool {
	for _, p := range patterns {
		if p == pkg || strings.HasPrefix(p, "/") && renovateRegex(t, p).MatchString(pkg) {
			return true
		}
	}
	return false
}
