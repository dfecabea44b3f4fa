package render

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const repoRoot = "../.."

func loadRepo(t *testing.T) (*Tree, []Target) {
	t.Helper()
	tree, err := LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	return tree, targets
}

func TestDiscoverRepository(t *testing.T) {
	_, targets := loadRepo(t)
	var got []string
	for _, tg := range targets {
		s := string(tg.Kind) + ":" + tg.Dir
		if tg.Generated {
			s += " (generated)"
		}
		got = append(got, s)
	}
	want := []string{
		"overlay:overlays/dev", "overlay:overlays/prod", "overlay:overlays/staging",
		"cluster:clusters/dev/argocd", "cluster:clusters/dev/flux (generated)",
		"cluster:clusters/prod/argocd", "cluster:clusters/prod/flux (generated)",
		"cluster:clusters/staging/argocd", "cluster:clusters/staging/flux (generated)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Discover =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// kustomizeCLI returns the path of the stock kustomize CLI pinned in go.mod.
func kustomizeCLI(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", "kustomize").Output()
	if err != nil {
		t.Skipf("the kustomize CLI (go tool kustomize, pinned in go.mod) could not be built: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRenderMatchesKustomizeCLI proves the validator checks exactly what a
// user, Argo CD or Flux would deploy: every target renders to the bytes the
// stock CLI prints.
func TestRenderMatchesKustomizeCLI(t *testing.T) {
	cli := kustomizeCLI(t)
	tree, targets := loadRepo(t)
	for _, tg := range targets {
		if tg.Generated {
			continue // the CLI needs a kustomization file; Flux generates one
		}
		t.Run(tg.Dir, func(t *testing.T) {
			res, err := Render(tree, tg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := res.Resources.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(cli, "build", filepath.Join(repoRoot, tg.Dir))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("kustomize build %s: %v: %s", tg.Dir, err, stderr.String())
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render differs from kustomize build:\n--- validator\n%s\n--- kustomize\n%s", got, want)
			}
		})
	}
}

// TestRenderMatchesFlux renders each overlay with kustomize-controller's
// options (no load restrictions, no plugins, input order) from disk and
// expects the same documents.
func TestRenderMatchesFlux(t *testing.T) {
	tree, targets := loadRepo(t)
	for _, tg := range targets {
		if tg.Kind != Overlay {
			continue
		}
		t.Run(tg.Dir, func(t *testing.T) {
			res, err := Render(tree, tg)
			if err != nil {
				t.Fatal(err)
			}
			k := krusty.MakeKustomizer(&krusty.Options{
				LoadRestrictions: types.LoadRestrictionsNone,
				PluginConfig:     types.DisabledPluginConfig(),
			})
			m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, tg.Dir))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := documents(t, res.Resources.AsYaml), documents(t, m.AsYaml); got != want {
				t.Errorf("render differs from Flux's build:\n--- validator\n%s\n--- flux\n%s", got, want)
			}
		})
	}
}

func documents(t *testing.T, asYaml func() ([]byte, error)) string {
	t.Helper()
	b, err := asYaml()
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(strings.TrimSpace(string(b)), "\n---\n")
	sort.Strings(docs)
	return strings.Join(docs, "\n---\n")
}

func TestEveryClusterEntryRenders(t *testing.T) {
	tree, targets := loadRepo(t)
	for _, tg := range targets {
		if tg.Kind != Cluster {
			continue
		}
		res, err := Render(tree, tg)
		if err != nil {
			t.Errorf("%s: %v", tg.Dir, err)
			continue
		}
		if res.Resources.Size() == 0 {
			t.Errorf("%s renders nothing", tg.Dir)
		}
	}
}

func TestSourceAttribution(t *testing.T) {
	tree, _ := loadRepo(t)
	res, err := Render(tree, Target{Kind: Overlay, Dir: "overlays/staging"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Namespace/blog":          "base/blog/namespace.yaml",
		"Deployment/blog":         "base/blog/deployment.yaml",
		"WasmPlugin/blog-headers": "base/wasmplugin/wasmplugin.yaml",
		"Gateway/blog":            "base/ingress/gateway.yaml",
	}
	for _, r := range res.Resources.Resources() {
		key := r.GetKind() + "/" + r.GetName()
		if w, ok := want[key]; ok && res.Source(r) != w {
			t.Errorf("%s: source %q, want %q", key, res.Source(r), w)
		}
		if _, ok := r.GetAnnotations()["config.kubernetes.io/origin"]; ok {
			t.Errorf("%s keeps the origin annotation", key)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		repo string
		want string // the error names the file and the problem
	}{
		{"remote", `overlays/dev/kustomization.yaml:4: resources[0] "https://github.com/fixture-org/shared//base?ref=v1" is a remote reference`},
		{"missing", `overlays/dev/kustomization.yaml:4: resources[0] "../../base": no such file or directory`},
		{"cycle", `kustomization cycle: overlays/dev -> base -> overlays/dev`},
		{"malformed", `overlays/dev/service.yaml`},
		{"notkube", `overlays/dev/notes.yaml`},
		{"badfield", `overlays/dev/kustomization.yaml: not a valid kustomization: error unmarshaling JSON: while decoding JSON: json: unknown field "resource"`},
		{"escape", `overlays/dev/kustomization.yaml:4: resources[0] "../../../shared" points outside the repository`},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			tree, err := LoadDir(filepath.Join("testdata", tt.repo))
			if err != nil {
				t.Fatal(err)
			}
			targets, err := Discover(tree)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Render(tree, targets[0])
			if err == nil {
				t.Fatal("rendered without error")
			}
			var rerr *Error
			if !errors.As(err, &rerr) || rerr.Target.Dir != "overlays/dev" {
				t.Errorf("error %v does not name the overlay", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

func TestEmptyOverlays(t *testing.T) {
	tree, err := LoadDir("testdata/empty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Discover(tree); err == nil || !strings.Contains(err.Error(), "no overlays/<env>/ with a kustomization file, and no Flux Kustomization or Argo CD Application") {
		t.Errorf("Discover = %v, want nothing to validate", err)
	}
}

func TestSymlinkEscapingRepository(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	dev := filepath.Join(repo, "overlays", "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "kustomization.yaml"), []byte("resources:\n- secret.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dev, "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(repo)
	if err == nil || !strings.Contains(err.Error(), "overlays/dev/secret.yaml: symbolic link points outside the repository") {
		t.Errorf("LoadDir = %v, want the escaping link named", err)
	}
}

func TestKustomizeErrorNamesInnermostKustomization(t *testing.T) {
	tree, _ := loadRepo(t)
	data, _ := tree.ReadFile("overlays/prod/wasmplugin.yaml")
	if err := tree.Add("overlays/prod/wasmplugin.yaml", []byte(strings.Replace(string(data), "name: blog-headers", "name: blog-headerz", 1))); err != nil {
		t.Fatal(err)
	}
	_, err := Render(tree, Target{Kind: Overlay, Dir: "overlays/prod"})
	want := `render overlays/prod: overlays/prod/kustomization.yaml: no resource matches strategic merge patch "WasmPlugin.v1alpha1.extensions.istio.io/blog-headerz.blog"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant prefix %s", err, want)
	}
}
