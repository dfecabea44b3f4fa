package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/variants"
)

// The layouts of other repositories, as real YAML trees: one shaped like
// fluxcd/flux2-kustomize-helm-example (apps/, infrastructure/, clusters/<name>/,
// no overlays/) and one like argoproj/argocd-example-apps' app-of-apps (no
// clusters/, no overlays/: a root Application syncing a folder of
// Applications, one of which syncs another).
const (
	fluxLayout = "testdata/layouts/flux-kustomize-helm"
	argoLayout = "testdata/layouts/argocd-app-of-apps"
)

// layoutRun is what a test reads of a run: the targets discovered, those
// rendered, and each finding as "CODE file:line resource".
type layoutRun struct {
	targets, rendered, findings []string
	res                         *Result
}

func runLayout(t *testing.T, tree *render.Tree) layoutRun {
	t.Helper()
	res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	var r layoutRun
	r.res = res
	for _, tg := range res.Targets {
		r.targets = append(r.targets, tg.ID())
	}
	for _, tg := range res.Rendered {
		r.rendered = append(r.rendered, tg.ID())
	}
	for _, f := range res.Findings {
		r.findings = append(r.findings, fmt.Sprintf("%s %s:%d %s", f.Code, f.File, f.Line, f.Resource))
		t.Log(f.String())
	}
	slices.Sort(r.findings)
	noSilentTarget(t, res)
	return r
}

// noSilentTarget is the invariant of issue 19: every target discovered is
// rendered or has a finding that names it and says why (not the pipeline's
// own last guard, which would be a bug), and exit 2 comes with that finding.
func noSilentTarget(t *testing.T, res *Result) {
	t.Helper()
	rendered := map[string]bool{}
	for _, tg := range res.Rendered {
		rendered[tg.ID()] = true
	}
	missing := 0
	for _, tg := range res.Targets {
		if rendered[tg.ID()] {
			continue
		}
		missing++
		if !slices.ContainsFunc(res.Findings, func(f check.Finding) bool {
			return Explains(f, tg) && !strings.Contains(f.Message, "no finding says why")
		}) {
			t.Errorf("target %s was not rendered and no finding names it", tg.ID())
		}
	}
	if missing == 0 && len(res.Rendered) != len(res.Targets) {
		t.Errorf("%d targets rendered of %d, none missing by name", len(res.Rendered), len(res.Targets))
	}
}

func loadLayout(t *testing.T, dir string, edits ...fileEdit) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		if e.old == "" {
			if err := tree.Add(e.file, []byte(e.new)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := tree.ReadFile(e.file)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), e.old); n != 1 {
			t.Fatalf("%s contains %q %d times, want once", e.file, e.old, n)
		}
		if err := tree.Add(e.file, []byte(strings.Replace(string(data), e.old, e.new, 1))); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestEntriesFluxLayout: the entry points under clusters/<name>/ are enough;
// the infra-configs Kustomization's patch (an option) needs a hidden
// baseline of infrastructure/configs, which is no target of the repository
// (before, it was counted and not rendered: exit 2 with no finding).
func TestEntriesFluxLayout(t *testing.T) {
	var targets []string
	for _, env := range []string{"production", "staging"} {
		targets = append(targets, "clusters/"+env)
	}
	for _, env := range []string{"production", "staging"} {
		targets = append(targets, "clusters/"+env+"/apps.yaml#apps",
			"clusters/"+env+"/infrastructure.yaml#infra-controllers", "clusters/"+env+"/infrastructure.yaml#infra-configs")
	}
	// The example's charts come from the network: not checked, and said so
	// (HLM001, one per pinned version: staging patches in a pre-release
	// range); its namespaces carry no injection label (Istio's IST0102, an
	// info).
	uncached := []string{"HLM001 apps/base/podinfo/release.yaml:1 HelmRelease podinfo/podinfo",
		"HLM001 apps/base/podinfo/release.yaml:1 HelmRelease podinfo/podinfo",
		"HLM001 infrastructure/controllers/cert-manager.yaml:18 HelmRelease cert-manager/cert-manager",
		"IST0102 apps/base/podinfo/namespace.yaml:4 Namespace podinfo",
		"IST0102 infrastructure/controllers/cert-manager.yaml:5 Namespace cert-manager"}
	t.Run("clean", func(t *testing.T) {
		r := runLayout(t, loadLayout(t, fluxLayout))
		equal(t, "targets", r.targets, targets)
		equal(t, "rendered", r.rendered, targets)
		equal(t, "findings", r.findings, uncached)
		if r.res.RenderFailed() {
			t.Error("RenderFailed: the validator would exit 2")
		}
	})
	t.Run("staging patch file missing", func(t *testing.T) {
		r := runLayout(t, loadLayout(t, fluxLayout, fileEdit{"apps/staging/kustomization.yaml", "path: podinfo-values.yaml", "path: podinfo-value.yaml"}))
		// staging's patch of the HelmRelease's version is not applied:
		// production's release alone reaches the Helm engine.
		equal(t, "findings", r.findings, []string{uncached[0], uncached[2], uncached[3], uncached[4], "RN002 apps/staging/kustomization.yaml:0 "})
		if !r.res.RenderFailed() {
			t.Error("a target failed and RenderFailed is false")
		}
	})
	t.Run("base image not pinned in apps/staging", func(t *testing.T) {
		// IMG002 is the policy of overlays/<env>, where make bump edits
		// images:; a Flux layout's apps/staging pins as its team chooses.
		r := runLayout(t, loadLayout(t, fluxLayout,
			fileEdit{"apps/base/podinfo/kustomization.yaml", "  - release.yaml\n", "  - release.yaml\n  - redis.yaml\n"},
			fileEdit{"apps/base/podinfo/redis.yaml", "", readLayoutFile(t, argoLayout, "guestbook/guestbook-ui-deployment.yaml")}))
		equal(t, "findings", r.findings, uncached)
	})
	t.Run("production path typo", func(t *testing.T) {
		r := runLayout(t, loadLayout(t, fluxLayout, fileEdit{"clusters/production/apps.yaml", "path: ./apps/production", "path: ./apps/prod"}))
		// production's apps do not render: staging's release alone.
		equal(t, "findings", r.findings, append([]string{"GO001 clusters/production/apps.yaml:1 Kustomization flux-system/apps"}, uncached[1:]...))
	})
}

// TestEntriesArgoAppOfApps: no clusters/, no overlays/: the root Application
// in bootstrap/ is found where it lives, and the Applications its path
// renders (apps/) and theirs (platform/) are entry points too.
func TestEntriesArgoAppOfApps(t *testing.T) {
	targets := []string{"bootstrap", "bootstrap/root.yaml#root", "apps/guestbook.yaml#guestbook",
		"apps/kustomize-guestbook.yaml#kustomize-guestbook", "apps/platform.yaml#platform", "platform/namespaces.yaml#namespaces"}
	// The upstream Services leave their port unnamed (a warning, on the
	// file and line to edit, the kustomize- prefix notwithstanding).
	// Nor do they label the namespace for injection (Istio's IST0102, an
	// info).
	warnings := []string{"IST0102 namespaces/guestbook.yaml:4 Namespace guestbook",
		"WL004 guestbook/guestbook-ui-svc.yaml:7 Service guestbook/guestbook-ui",
		"WL004 kustomize-guestbook/guestbook-ui-svc.yaml:7 Service guestbook/kustomize-guestbook-ui"}
	t.Run("clean", func(t *testing.T) {
		r := runLayout(t, loadLayout(t, argoLayout))
		equal(t, "targets", r.targets, targets)
		equal(t, "rendered", r.rendered, targets)
		equal(t, "findings", r.findings, warnings)
	})
	t.Run("child Application path typo", func(t *testing.T) {
		r := runLayout(t, loadLayout(t, argoLayout, fileEdit{"platform/namespaces.yaml", "path: namespaces", "path: namespace"}))
		// The namespaces folder does not render: no IST0102 on it.
		equal(t, "findings", r.findings, append([]string{"GO001 platform/namespaces.yaml:1 Application argocd/namespaces"}, warnings[1:]...))
	})
	t.Run("cycle of Applications", func(t *testing.T) {
		// platform/ also holds an Application syncing apps/, which holds
		// the one syncing platform/: each path is read once.
		r := runLayout(t, loadLayout(t, argoLayout, fileEdit{"platform/apps.yaml", "", strings.ReplaceAll(strings.ReplaceAll(
			readLayoutFile(t, argoLayout, "apps/platform.yaml"), "name: platform", "name: apps-again"), "path: platform", "path: apps")}))
		equal(t, "targets", r.targets, append(slices.Clone(targets[:5]), "platform/apps.yaml#apps-again", targets[5]))
		equal(t, "findings", r.findings, warnings)
	})
	t.Run("root syncs its own folder", func(t *testing.T) {
		// The usual self-managing root: apps/root.yaml syncs apps/, itself
		// included. No folder is left as a root target: the Application
		// renders it.
		tree := loadLayout(t, argoLayout, fileEdit{"apps/root.yaml", "", readLayoutFile(t, argoLayout, "bootstrap/root.yaml")})
		if err := tree.Add("bootstrap/root.yaml", []byte("# moved to apps/root.yaml\n")); err != nil {
			t.Fatal(err)
		}
		r := runLayout(t, tree)
		equal(t, "targets", r.targets, []string{"apps/root.yaml#root", "apps/guestbook.yaml#guestbook",
			"apps/kustomize-guestbook.yaml#kustomize-guestbook", "apps/platform.yaml#platform", "platform/namespaces.yaml#namespaces"})
		equal(t, "findings", r.findings, warnings)
	})
}

func readLayoutFile(t *testing.T, dir, rel string) string {
	t.Helper()
	tree, err := render.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tree.ReadFile(rel)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEntriesNoLayout: a repository with neither overlays nor entry points
// gets one error that says what the validator looks for.
func TestEntriesNoLayout(t *testing.T) {
	tree := render.NewTree("bare")
	if err := tree.Add("base/kustomization.yaml", []byte("resources: []\n")); err != nil {
		t.Fatal(err)
	}
	_, err := RunTree(tree, Options{})
	if err == nil || !strings.Contains(err.Error(), "no overlays/<env>/ with a kustomization file, and no Flux Kustomization or Argo CD Application") {
		t.Errorf("RunTree = %v, want the one error naming both layouts", err)
	}
}

// TestEntriesComponentIsNoTarget: overlays/_shared holds a Component that dev
// uses; it renders through dev only (before: a target of its own, RN002
// "expected kind != 'Component'").
func TestEntriesComponentIsNoTarget(t *testing.T) {
	r := runLayout(t, loadFixture(t, []fileEdit{
		{"overlays/_shared/kustomization.yaml", "", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs:\n      team: edge\n"},
		{devKust, "resources:\n  - ../../base\n", "resources:\n  - ../../base\ncomponents:\n  - ../_shared\n"},
	}))
	equal(t, "findings", r.findings, nil)
	for _, tg := range r.targets {
		if strings.Contains(tg, "_shared") {
			t.Errorf("target %s: a Component is not a target", tg)
		}
	}
}

// TestEntriesFluxPostBuildHost is issue 19's case: dev deployed by Flux only
// (its Argo CD folder removed), its overlay's host "blog.${CLUSTER_DOMAIN}"
// substituted by the Kustomization's postBuild. Before, the hidden plain
// build of overlays/dev counted as a target that did not render: exit 2
// with no finding. It is a legitimate repository: no finding, exit 0.
func TestEntriesFluxPostBuildHost(t *testing.T) {
	files, err := variants.Fixture(forkFixture)
	if err != nil {
		t.Fatal(err)
	}
	for p := range files {
		if strings.HasPrefix(p, "clusters/dev/argocd/") {
			delete(files, p)
		}
	}
	overlay := string(files["overlays/dev/kustomization.yaml"])
	m := regexp.MustCompile(`value: \[blog\.([^\]]+)\]`).FindStringSubmatch(overlay)
	if m == nil {
		t.Fatal("overlays/dev/kustomization.yaml sets no blog.<domain> host")
	}
	files["overlays/dev/kustomization.yaml"] = []byte(strings.ReplaceAll(overlay, "[blog."+m[1]+"]", `["blog.${CLUSTER_DOMAIN}"]`))
	blog := string(files["clusters/dev/flux/blog.yaml"])
	if !strings.Contains(blog, "  wait: true\n") {
		t.Fatal("clusters/dev/flux/blog.yaml has no wait: true line to append postBuild to")
	}
	files["clusters/dev/flux/blog.yaml"] = []byte(strings.Replace(blog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      CLUSTER_DOMAIN: "+m[1]+"\n", 1))
	r := runLayout(t, treeOf(t, files))
	equal(t, "findings", r.findings, nil)
	equal(t, "rendered", r.rendered, r.targets)
	if r.res.RenderFailed() {
		t.Error("RenderFailed: the validator would exit 2")
	}
}
