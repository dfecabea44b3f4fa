package argocd_test

import (
	"testing"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/argocd"
)

// An Application's kustomize options are Argo CD's kustomize edit commands
// over the source's kustomization (namePrefix, commonLabels, images), and
// the destination namespace goes to the objects that set none, as Argo CD
// applies them.
func TestArgoCDEngine(t *testing.T) {
	tr := render.NewTree("argocd")
	for p, data := range map[string]string{
		"clusters/dev/argocd/web.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web-dev, namespace: argocd}
spec:
  project: default
  source:
    repoURL: https://git.example.test/platform/edge.git
    path: apps/web
    kustomize:
      namePrefix: dev-
      commonLabels: {team: web}
      images: [nginx=registry.example.test/nginx:1.27]
  destination: {server: https://kubernetes.default.svc, namespace: web}
`,
		"apps/web/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\n",
		"apps/web/deployment.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n",
	} {
		if err := tr.Add(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := render.EntryPoints(tr)
	if err != nil || len(entries) != 1 || entries[0].Engine != render.ArgoCD {
		t.Fatalf("entry points %v, err %v", entries, err)
	}
	tg, err := argocd.Prepare(tr, entries[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := argocd.Build(tr, tg)
	if err != nil {
		t.Fatal(err)
	}
	rs := res.Resources.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources, want the Deployment", len(rs))
	}
	d := rs[0]
	if d.GetName() != "dev-web" || d.GetNamespace() != "web" || d.GetLabels()["team"] != "web" {
		t.Errorf("Deployment %s/%s labels %v, want web/dev-web with team: web", d.GetNamespace(), d.GetName(), d.GetLabels())
	}
	image, err := d.GetFieldValue("spec.template.spec.containers[0].image")
	if err != nil || image != "registry.example.test/nginx:1.27" {
		t.Errorf("image %v (%v), want the Application's registry.example.test/nginx:1.27", image, err)
	}
	if got := res.Source(d); got != "apps/web/deployment.yaml" {
		t.Errorf("source %q, want apps/web/deployment.yaml", got)
	}
}
