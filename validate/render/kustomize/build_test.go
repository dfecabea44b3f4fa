package kustomize

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"meshops.dev/meshops/validate/render"
)

const repoRoot = "../../.."

func loadRepo(t *testing.T) (*render.Tree, []render.Target) {
	t.Helper()
	tree, err := render.LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := render.Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	return tree, targets
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
		if tg.Kind != render.Overlay {
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
		if tg.Kind != render.Cluster {
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
	res, err := Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/staging"})
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
			tree, err := render.LoadDir(filepath.Join("testdata", tt.repo))
			if err != nil {
				t.Fatal(err)
			}
			targets, err := render.Discover(tree)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Render(tree, targets[0])
			if err == nil {
				t.Fatal("rendered without error")
			}
			var rerr *render.Error
			if !errors.As(err, &rerr) || rerr.Target.Dir != "overlays/dev" {
				t.Errorf("error %v does not name the overlay", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

func TestKustomizeErrorNamesInnermostKustomization(t *testing.T) {
	tree, _ := loadRepo(t)
	data, _ := tree.ReadFile("overlays/prod/wasmplugin.yaml")
	if err := tree.Add("overlays/prod/wasmplugin.yaml", []byte(strings.Replace(string(data), "name: blog-headers", "name: blog-headerz", 1))); err != nil {
		t.Fatal(err)
	}
	_, err := Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/prod"})
	want := `render overlays/prod: overlays/prod/kustomization.yaml: no resource matches strategic merge patch "WasmPlugin.v1alpha1.extensions.istio.io/blog-headerz.blog"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant prefix %s", err, want)
	}
}

// TestNoInternalPathInErrors: the in-memory wrapper's relative path to the
// target never reaches a message.
func TestNoInternalPathInErrors(t *testing.T) {
	for _, doc := range []string{"", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: [x]\n"} {
		tree := render.NewTree("test")
		_ = tree.Add("overlays/qa/kustomization.yaml", []byte(doc))
		_, err := Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/qa"})
		if err == nil {
			t.Fatalf("%q rendered without error", doc)
		}
		if strings.Contains(err.Error(), "../") || strings.Contains(err.Error(), wrapperDir) || strings.Contains(err.Error(), tree.Root) {
			t.Errorf("error leaks an internal path: %v", err)
		}
		if !strings.Contains(err.Error(), "overlays/qa") {
			t.Errorf("error does not name the overlay: %v", err)
		}
	}
}

// TestPatchErrorsNameFileAndLine: a patch Kustomize cannot parse is refused
// first, naming the patch file (or the kustomization's line, for an inline
// patch), the line and the cause.
func TestPatchErrorsNameFileAndLine(t *testing.T) {
	const base = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"
	tests := []struct {
		name, kustomization, patch string
		want                       string
	}{
		{"tab", "resources: [cm.yaml]\npatches:\n  - path: patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n\ta: c\n",
			"overlays/dev/patch.yaml:6: patch (patches[0] of overlays/dev/kustomization.yaml) is not valid YAML: found character that cannot start any token"},
		{"duplicate key", "resources: [cm.yaml]\npatches:\n  - path: patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: c\n  a: d\n",
			`overlays/dev/patch.yaml:7: patch (patches[0] of overlays/dev/kustomization.yaml) is not valid YAML: mapping key "a" already defined at line 6`},
		{"not utf-8", "resources: [cm.yaml]\npatchesStrategicMerge:\n  - patch.yaml\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \xff\n",
			"overlays/dev/patch.yaml:6: patch (patchesStrategicMerge[0] of overlays/dev/kustomization.yaml) is not valid YAML: byte 0xff is not UTF-8"},
		{"inline", "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |-\n      - op: add\n        path: /data/x\n       value: y\n", "",
			"overlays/dev/kustomization.yaml:6: patches[0]: inline patch is not valid YAML: did not find expected '-' indicator"}, // go-yaml names the line before the bad indent
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := render.NewTree("test")
			_ = tree.Add("overlays/dev/kustomization.yaml", []byte(tt.kustomization))
			_ = tree.Add("overlays/dev/cm.yaml", []byte(base))
			if tt.patch != "" {
				_ = tree.Add("overlays/dev/patch.yaml", []byte(tt.patch))
			}
			_, err := Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant it to contain %s", err, tt.want)
			}
		})
	}
}
