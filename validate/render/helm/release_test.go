package helm

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// fakeObjects is what a Flux target rendered, by kind, namespace and name.
type fakeObjects map[string]map[string]any

func (f fakeObjects) Find(kind, namespace, name string) map[string]any {
	return f[kind+"/"+namespace+"/"+name]
}

func obj(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// helm-controller's defaults: release name targetNamespace-name, namespace
// targetNamespace; values from valuesFrom (a ConfigMap, then a Secret's
// stringData at a targetPath) under values.
func TestFromHelmRelease(t *testing.T) {
	hr := obj(t, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: gw, namespace: flux-system}
spec:
  interval: 1h
  targetNamespace: edge
  chart:
    spec:
      chart: gateway
      version: 1.31.2
      sourceRef: {kind: HelmRepository, name: istio, namespace: istio-system}
  valuesFrom:
    - {kind: ConfigMap, name: gw-values}
    - {kind: Secret, name: gw-secret, valuesKey: replicas, targetPath: replicaCount}
  values:
    labels: {istio: edge}
`)
	objs := fakeObjects{
		"HelmRepository/istio-system/istio": obj(t, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: istio, namespace: istio-system}\nspec: {url: "+IstioRepositories[0]+"}\n"),
		"ConfigMap/flux-system/gw-values":   obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gw-values, namespace: flux-system}\ndata:\n  values.yaml: |\n    labels: {istio: cm, team: a}\n    service: {type: NodePort}\n"),
		"Secret/flux-system/gw-secret":      obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: gw-secret, namespace: flux-system}\nstringData: {replicas: \"2\"}\n"),
	}
	rel, err := FromHelmRelease(hr, "infra/gw.yaml", 1, "clusters/dev", objs, []byte("a: b\n"))
	if err != nil || rel.Problem != "" {
		t.Fatalf("err %v, problem %q", err, rel.Problem)
	}
	if rel.Name != "edge-gw" || rel.Namespace != "edge" || rel.RepoURL != IstioRepositories[0] || !rel.IncludeCRDs || !rel.IstioChart() || rel.IstioSubstituted() {
		t.Errorf("release %+v", rel)
	}
	want := map[string]any{"labels": map[string]any{"istio": "edge", "team": "a"}, "service": map[string]any{"type": "NodePort"}, "replicaCount": int64(2)}
	if !reflect.DeepEqual(rel.Values, want) {
		t.Errorf("values %#v, want %#v", rel.Values, want)
	}
	res, err := Render(render.NewTree(t.TempDir()), rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := podLabels(t, res, "Deployment")["istio"]; got != "edge" {
		t.Errorf("pod label istio=%q, want the values' edge", got)
	}

	// A HelmRepository nobody declares: a problem, not a crash.
	delete(objs, "HelmRepository/istio-system/istio")
	rel, err = FromHelmRelease(hr, "infra/gw.yaml", 1, "clusters/dev", objs, nil)
	if err != nil || rel.Problem == "" {
		t.Errorf("err %v, problem %q: want a problem naming the HelmRepository", err, rel.Problem)
	}
}

// Argo CD: release name defaults to the Application's, values in the order
// valueFiles ($values from this repository), valuesObject, parameters.
func TestFromApplication(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "values"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "values", "gw.yaml"), []byte("labels: {istio: file, team: a}\nreplicaCount: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := render.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	app := obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: istio-ingressgateway-dev, namespace: argocd}
spec:
  destination: {namespace: istio-ingress}
  sources:
    - repoURL: `+IstioRepositories[0]+`
      chart: gateway
      targetRevision: 1.31.0
      helm:
        valueFiles: [$values/values/gw.yaml]
        valuesObject: {labels: {istio: object}}
        parameters:
          - {name: replicaCount, value: "3"}
          - {name: labels.team, value: "7", forceString: true}
    - repoURL: https://git.example/edge.git
      ref: values
`)
	sources := app["spec"].(map[string]any)["sources"].([]any)
	e := &render.EntryPoint{Engine: render.ArgoHelm, File: "clusters/dev/argocd/istio.yaml", Line: 1, Kind: "Application", Namespace: "argocd",
		Name: "istio-ingressgateway-dev", Object: app, Source: sources[0].(map[string]any), SourceField: "spec.sources[0]"}
	this := func(u string) bool { return u == "https://git.example/edge.git" }
	rel, err := FromApplication(tree, e, this, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Name != "istio-ingressgateway-dev" || rel.Namespace != "istio-ingress" || !rel.IncludeCRDs {
		t.Errorf("release %+v", rel)
	}
	res, err := Render(tree, rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	labels := podLabels(t, res, "Deployment")
	if labels["istio"] != "object" || labels["team"] != "7" {
		t.Errorf("pod labels %v, want istio=object (valuesObject over the file), team=\"7\" (--set-string last)", labels)
	}

	// A $values file of another repository cannot be read: an error.
	if _, err := FromApplication(tree, e, func(string) bool { return false }, nil); err == nil {
		t.Error("want an error for $values in a repository that is not this one")
	}
}

// spec.postRenderers run over the render as helm-controller runs them: a
// Kustomize patch of the gateway chart's Deployment and an image rewrite,
// in order, each over the previous one's output.
func TestFluxPostRenderers(t *testing.T) {
	hr := obj(t, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: istio-ingressgateway, namespace: istio-ingress}
spec:
  interval: 1h
  chart:
    spec:
      chart: gateway
      version: 1.31.0
      sourceRef: {kind: HelmRepository, name: istio, namespace: istio-system}
  postRenderers:
    - kustomize:
        patches:
          - target: {kind: Deployment, name: istio-ingressgateway}
            patch: |
              - op: add
                path: /spec/template/metadata/labels/team
                value: web
    - kustomize:
        patches:
          - patch: |
              apiVersion: apps/v1
              kind: Deployment
              metadata: {name: istio-ingressgateway, namespace: istio-ingress}
              spec:
                template:
                  metadata:
                    labels: {istio: edge}
        images:
          - {name: auto, newName: registry.example.test/proxy, newTag: "1.31.0"}
`)
	objs := fakeObjects{
		"HelmRepository/istio-system/istio": obj(t, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: istio, namespace: istio-system}\nspec: {url: "+IstioRepositories[0]+"}\n"),
	}
	rel, err := FromHelmRelease(hr, "infra/gw.yaml", 1, "clusters/dev", objs, nil)
	if err != nil || rel.Problem != "" || len(rel.Ignored) != 0 {
		t.Fatalf("err %v, problem %q, ignored %v", err, rel.Problem, rel.Ignored)
	}
	res, err := Render(render.NewTree(t.TempDir()), rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	labels := podLabels(t, res, "Deployment")
	if labels["team"] != "web" || labels["istio"] != "edge" {
		t.Errorf("pod labels %v, want team: web from the first post-renderer and istio: edge from the second", labels)
	}
	image := ""
	for _, r := range res.Resources.Resources() {
		if r.GetKind() == "Deployment" {
			images, _ := r.GetFieldValue("spec.template.spec.containers[0].image")
			image, _ = images.(string)
		}
	}
	if image != "registry.example.test/proxy:1.31.0" {
		t.Errorf("image %q, want the post-renderer's registry.example.test/proxy:1.31.0", image)
	}
	// Without post-renderers, the chart's own labels and image.
	plain := *rel
	plain.PostRenderers = nil
	res, err = Render(render.NewTree(t.TempDir()), &plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := podLabels(t, res, "Deployment"); l["istio"] != "ingressgateway" || l["team"] != "" {
		t.Errorf("pod labels without post-renderers %v", l)
	}
	if plain.Key() == rel.Key() {
		t.Error("a release's key does not tell its post-renderers apart")
	}
	// A patch Kustomize refuses is the release's render error.
	bad := *rel
	bad.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []kustomize.Patch{{Patch: "- op: remove\n  path: /spec/nothing\n", Target: &kustomize.Selector{Kind: "Deployment"}}}}}}
	var re *RenderError
	if _, err := Render(render.NewTree(t.TempDir()), &bad, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "spec.postRenderers[0].kustomize") {
		t.Errorf("err %v, want a RenderError naming spec.postRenderers[0].kustomize", err)
	}
}
