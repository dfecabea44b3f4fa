package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func treeWith(t *testing.T, files map[string]string) *Tree {
	t.Helper()
	tree := NewTree("layout")
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := tree.Add(k, []byte(files[k])); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func application(name, path string) string {
	return fmt.Sprintf("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: %s\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://git.fork.test/apps.git\n    path: %s\n  destination:\n    server: https://kubernetes.default.svc\n", name, path)
}

func fluxKustomization(name, path string) string {
	return fmt.Sprintf("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: %s\n  namespace: flux-system\nspec:\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: %s\n", name, path)
}

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"

func discovered(t *testing.T, tree *Tree) (targets, entries []string) {
	t.Helper()
	tgs, err := Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tgs {
		s := string(tg.Kind) + ":" + tg.Dir
		if tg.Generated {
			s += " (generated)"
		}
		targets = append(targets, s)
	}
	eps, err := EntryPoints(tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		entries = append(entries, e.ID()+" -> "+e.Path+" in "+e.Cluster)
	}
	return targets, entries
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestDiscoverAppOfApps: no clusters/, no overlays/: the root Application's
// folder is the target, and the Applications its path renders (and theirs)
// are entry points of its cluster, each path read once.
func TestDiscoverAppOfApps(t *testing.T) {
	tree := treeWith(t, map[string]string{
		"bootstrap/root.yaml":   application("root", "apps"),
		"apps/guestbook.yaml":   application("guestbook", "guestbook"),
		"apps/platform.yaml":    application("platform", "platform"),
		"platform/ns.yaml":      application("ns", "namespaces"),
		"platform/back.yaml":    application("back", "apps"), // a cycle
		"guestbook/cm.yaml":     configMap,
		"namespaces/cm.yaml":    configMap,
		"unrelated/readme.yaml": configMap,
	})
	targets, entries := discovered(t, tree)
	same(t, "targets", targets, []string{"cluster:bootstrap (generated)"})
	same(t, "entry points", entries, []string{
		"bootstrap/root.yaml#root -> apps in bootstrap",
		"apps/guestbook.yaml#guestbook -> guestbook in bootstrap",
		"apps/platform.yaml#platform -> platform in bootstrap",
		"platform/back.yaml#back -> apps in bootstrap",
		"platform/ns.yaml#ns -> namespaces in bootstrap",
	})
}

// TestDiscoverFluxClusters: flux bootstrap's clusters/<name>/ without
// overlays/, a Kustomization of Kustomizations included.
func TestDiscoverFluxClusters(t *testing.T) {
	tree := treeWith(t, map[string]string{
		"clusters/staging/apps.yaml":          fluxKustomization("apps", "./apps/staging"),
		"apps/staging/kustomization.yaml":     "resources:\n  - tenants.yaml\n  - ../base\n",
		"apps/staging/tenants.yaml":           fluxKustomization("tenants", "./tenants/staging"),
		"apps/base/kustomization.yaml":        "resources:\n  - cm.yaml\n",
		"apps/base/cm.yaml":                   configMap,
		"tenants/staging/kustomization.yaml":  "resources:\n  - cm.yaml\n",
		"tenants/staging/cm.yaml":             configMap,
		"overlays/_shared/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
	})
	targets, entries := discovered(t, tree)
	same(t, "targets", targets, []string{"cluster:clusters/staging (generated)"})
	same(t, "entry points", entries, []string{
		"clusters/staging/apps.yaml#apps -> apps/staging in clusters/staging",
		"apps/staging/tenants.yaml#tenants -> tenants/staging in clusters/staging",
	})
}

// TestDiscoverComponentIsNoTarget: a Component under overlays/ or clusters/
// renders only through the kustomizations that use it.
func TestDiscoverComponentIsNoTarget(t *testing.T) {
	component := "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs:\n      team: edge\n"
	tree := treeWith(t, map[string]string{
		"overlays/dev/kustomization.yaml":        "resources:\n  - cm.yaml\ncomponents:\n  - ../_shared\n",
		"overlays/dev/cm.yaml":                   configMap,
		"overlays/_shared/kustomization.yaml":    component,
		"clusters/dev/flux/blog.yaml":            fluxKustomization("blog", "./overlays/dev"),
		"clusters/dev/common/kustomization.yaml": component,
	})
	targets, _ := discovered(t, tree)
	same(t, "targets", targets, []string{"overlay:overlays/dev", "cluster:clusters/dev/flux (generated)"})
}

// TestDiscoverNothing: neither overlays nor entry points is one error.
func TestDiscoverNothing(t *testing.T) {
	tree := treeWith(t, map[string]string{"base/kustomization.yaml": "resources: []\n", "clusters/dev/cm.yaml": configMap})
	_, err := Discover(tree)
	if err == nil || !strings.Contains(err.Error(), "nothing to validate") {
		t.Errorf("Discover = %v, want nothing to validate", err)
	}
}
