package flux_test

import (
	"testing"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/flux"
)

func tree(t *testing.T, files map[string]string) *render.Tree {
	t.Helper()
	tr := render.NewTree("flux")
	for p, data := range files {
		if err := tr.Add(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// A Flux Kustomization renders as kustomize-controller renders it: the
// kustomization its Generator writes (targetNamespace, namePrefix), then
// postBuild's substitution per resource, on source-controller's artifact
// (a .sourceignore'd file is not there).
func TestFluxEngine(t *testing.T) {
	tr := tree(t, map[string]string{
		"clusters/dev/flux/web.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web, namespace: flux-system}
spec:
  interval: 10m
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./apps/web
  prune: true
  targetNamespace: web
  namePrefix: dev-
  postBuild:
    substitute: {host: web.dev.example.test}
`,
		"apps/web/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [configmap.yaml]\n",
		"apps/web/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  host: ${host}\n  port: ${port:=8080}\n",
		"apps/web/notes.yaml":         "not: read\n",
		".sourceignore":               "apps/web/notes.yaml\n",
	})
	entries, err := render.EntryPoints(tr)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entry points %v, err %v", entries, err)
	}
	sources, err := flux.NewSources(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer sources.Close()
	tg, err := sources.Prepare(entries[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Kind != render.Flux || tg.Dir != "apps/web" {
		t.Errorf("target %+v", tg)
	}
	res, err := flux.Build(tr, tg)
	if err != nil {
		t.Fatal(err)
	}
	rs := res.Resources.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources, want the ConfigMap", len(rs))
	}
	cm := rs[0]
	if cm.GetName() != "dev-web" || cm.GetNamespace() != "web" {
		t.Errorf("ConfigMap %s/%s, want web/dev-web", cm.GetNamespace(), cm.GetName())
	}
	data := cm.GetDataMap()
	if data["host"] != "web.dev.example.test" || data["port"] != "8080" {
		t.Errorf("data %v, want the substituted host and the default port", data)
	}
	if got := res.Source(cm); got != "apps/web/configmap.yaml" {
		t.Errorf("source %q, want apps/web/configmap.yaml", got)
	}

	// A variable with no value and no default becomes the empty string,
	// as kustomize-controller's envsubst (not strict) makes it; GO005 is
	// the check that says so.
	bad := tree(t, map[string]string{
		"clusters/dev/flux/web.yaml":  "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: web, namespace: flux-system}\nspec:\n  interval: 10m\n  sourceRef: {kind: GitRepository, name: flux-system}\n  path: ./apps/web\n  prune: true\n  postBuild:\n    substitute: {other: x}\n",
		"apps/web/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [configmap.yaml]\n",
		"apps/web/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  host: ${host}\n",
	})
	entries, err = render.EntryPoints(bad)
	if err != nil {
		t.Fatal(err)
	}
	sources2, err := flux.NewSources(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer sources2.Close()
	tg, err = sources2.Prepare(entries[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err = flux.Build(bad, tg)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Resources.Resources()[0].GetDataMap(); len(got) != 1 || got["host"] != "" {
		t.Errorf("data %v, want host substituted by the empty string", got)
	}
}
