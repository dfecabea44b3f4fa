package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

// gitopsFixture is a small fork of the repository (its own URL, registry
// with a port, and hosts): overlays dev and prod, a Flux cluster (dev: the
// istio and blog Kustomizations) and an Argo CD cluster (prod).
const gitopsFixture = "testdata/gitops"

// fileEdit replaces old with new in a file of the fixture (exactly once), or
// creates the file when old is "".
type fileEdit struct{ file, old, new string }

func loadFixture(t *testing.T, edits []fileEdit) *render.Tree {
	t.Helper()
	return loadLayout(t, gitopsFixture, edits...)
}

// fixtureFile reads a fixture file, for edits that copy one.
func fixtureFile(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(gitopsFixture, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// summary is each distinct finding as "CODE file:line", sorted.
func summary(t *testing.T, tree *render.Tree) []string {
	t.Helper()
	res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range res.Findings {
		s := fmt.Sprintf("%s %s:%d", f.Code, f.File, f.Line)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
		t.Log(f.String())
	}
	slices.Sort(out)
	return out
}

const (
	fluxBlog = "clusters/dev/flux/blog.yaml"
	argoBlog = "clusters/prod/argocd/application.yaml"
	devKust  = "overlays/dev/kustomization.yaml"
)

// TestEntryPointOptions: each Flux and Argo CD option that changes what
// lands in the cluster, used legitimately (no finding) and wrongly (the
// exact findings, on the file a reviewer has to change).
func TestEntryPointOptions(t *testing.T) {
	hostVar := []fileEdit{
		{devKust, "value: [blog.dev.apps.fork.test]\n  - target:", "value: [\"${HOST}\"]\n  - target:"},
		{devKust, "value: [blog.dev.apps.fork.test]\n  # This", "value: [\"${HOST}\"]\n  # This"},
	}
	tests := []struct {
		name  string
		edits []fileEdit
		want  []string
	}{
		{"clean fork", nil, nil},
		{"flux substitute defines the variable", append(hostVar[:2:2], fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      HOST: blog.dev.apps.fork.test\n"}), nil},
		{"flux substituteFrom a ConfigMap of the cluster folder", append(hostVar[:2:2],
			fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n"},
			fileEdit{"clusters/dev/flux/vars.yaml", "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  HOST: blog.dev.apps.fork.test\n"}), nil},
		{"flux default value", []fileEdit{
			{devKust, "value: [blog.dev.apps.fork.test]\n  - target:", "value: [\"${HOST:=blog.dev.apps.fork.test}\"]\n  - target:"},
			{devKust, "value: [blog.dev.apps.fork.test]\n  # This", "value: [\"${HOST:=blog.dev.apps.fork.test}\"]\n  # This"},
			{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      OTHER: x\n"}}, nil},
		{"flux undefined variable", append(hostVar[:2:2], fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      HOSTNAME: blog.dev.apps.fork.test\n"}),
			[]string{"GO005 clusters/dev/flux/blog.yaml:21", "IS001 clusters/dev/flux/blog.yaml:1"}},
		{"flux escaped variable stays literal", []fileEdit{
			{"overlays/dev/wasmplugin.yaml", "value: dev", "value: \"$${ENV}\""},
			{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      OTHER: x\n"}}, nil},
		{"flux malformed variable", append(hostVar[:1:1], fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substitute:\n      HOST: blog.dev.apps.fork.test\n"},
			fileEdit{"overlays/dev/wasmplugin.yaml", "value: dev", "value: \"${ENV\""}),
			[]string{"GO001 clusters/dev/flux/blog.yaml:1"}},
		{"flux secret for substituteFrom", append(hostVar[:2:2],
			fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-vars\n"},
			fileEdit{"clusters/dev/flux/vars.yaml", "", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  HOST: YmxvZy5kZXYuYXBwcy5mb3JrLnRlc3Q=\n"}),
			[]string{"SEC001 clusters/dev/flux/vars.yaml:6"}},
		{"flux source is an OCIRepository", []fileEdit{{fluxBlog, "    kind: GitRepository\n", "    kind: OCIRepository\n"}}, nil},
		{"flux substituteFrom a missing ConfigMap", append(hostVar[:2:2], fileEdit{fluxBlog, "  wait: true\n", "  wait: true\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n"}),
			[]string{"GO001 clusters/dev/flux/blog.yaml:1"}},
		{"flux targetNamespace moves the app away from its routes", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  targetNamespace: web\n"}},
			[]string{"RT003 clusters/dev/flux/blog.yaml:1"}},
		{"flux namePrefix renames the Service the route names", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  namePrefix: dev-\n"}},
			[]string{"RT001 clusters/dev/flux/blog.yaml:1", "RT003 clusters/dev/flux/blog.yaml:1"}},
		{"flux images pins latest", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  images:\n    - name: docker.io/nginxinc/nginx-unprivileged\n      newTag: latest\n"}},
			[]string{"IMG001 clusters/dev/flux/blog.yaml:1"}},
		{"flux images entry matches nothing", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  images:\n    - name: nginx\n      newTag: 1.27.4-alpine\n"}},
			[]string{"GO007 clusters/dev/flux/blog.yaml:22"}},
		{"flux patch raises the replicas", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  patches:\n    - target:\n        kind: Deployment\n        name: blog\n      patch: |\n        - op: replace\n          path: /spec/replicas\n          value: 2\n"}}, nil},
		{"flux patch selects nothing", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  patches:\n    - target:\n        kind: Deployment\n        name: blgo\n      patch: |\n        - op: replace\n          path: /spec/replicas\n          value: 2\n"}},
			[]string{"GO007 clusters/dev/flux/blog.yaml:22"}},
		{"flux component missing", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  components:\n    - ../../components/debug\n"}},
			[]string{"GO001 clusters/dev/flux/blog.yaml:1"}},
		{"flux component", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  components:\n    - ../../components/team\n"},
			{"components/team/kustomization.yaml", "", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs:\n      team: edge\n"}}, nil},
		{"flux commonMetadata", []fileEdit{{fluxBlog, "  wait: true\n", "  wait: true\n  commonMetadata:\n    labels:\n      team: edge\n"}}, nil},
		{"flux dependsOn missing", []fileEdit{{fluxBlog, "    - name: istio\n", "    - name: istio-system\n"}},
			[]string{"GO006 clusters/dev/flux/blog.yaml:16"}},
		{"flux dependsOn cycle", []fileEdit{{"clusters/dev/flux/istio.yaml", "  wait: true\n", "  wait: true\n  dependsOn:\n    - name: blog\n"}},
			[]string{"GO006 clusters/dev/flux/blog.yaml:16"}},
		{"flux source not declared", []fileEdit{{fluxBlog, "    name: flux-system\n", "    name: meshops\n"}},
			[]string{"GO001 clusters/dev/flux/blog.yaml:1"}},
		{".sourceignore drops a file the overlay needs", []fileEdit{{".sourceignore", "", "# not for the cluster\n*.md\noverlays/dev/wasmplugin.yaml\n"}},
			[]string{"GO001 clusters/dev/flux/blog.yaml:1"}},
		{"overlay images entry matches nothing", []fileEdit{{devKust, "    newTag: 1.27.3-alpine\n", "    newTag: 1.27.3-alpine\n  - name: docker.io/library/redis\n    newTag: \"7\"\n"}},
			[]string{"GO007 overlays/dev/kustomization.yaml:30"}},
		{"overlay patch selects nothing", []fileEdit{{devKust, "      kind: VirtualService\n      name: blog\n", "      kind: VirtualService\n      name: blog-vs\n"}},
			[]string{"GO007 overlays/dev/kustomization.yaml:14", "RT002 base/ingress/virtualservice.yaml:7"}},
		{"argo namePrefix", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      namePrefix: prod-\n"}},
			[]string{"RT001 clusters/prod/argocd/application.yaml:1", "RT003 clusters/prod/argocd/application.yaml:1"}},
		{"argo images latest", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      images:\n        - docker.io/nginxinc/nginx-unprivileged:latest\n"}},
			[]string{"IMG001 clusters/prod/argocd/application.yaml:1"}},
		{"argo images entry matches nothing", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      images:\n        - nginx:1.27.4-alpine\n"}},
			[]string{"GO007 clusters/prod/argocd/application.yaml:15"}},
		{"argo namespace", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      namespace: web\n"}},
			[]string{"RT003 clusters/prod/argocd/application.yaml:1"}},
		{"argo commonLabels and annotations, replicas, patches", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      commonLabels:\n        team: edge\n      commonAnnotations:\n        owner: edge\n      replicas:\n        - name: blog\n          count: 4\n      patches:\n        - target:\n            kind: Deployment\n            name: blog\n          patch: |\n            - op: add\n              path: /metadata/labels/tier\n              value: web\n"}}, nil},
		{"argo patch selects nothing", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      patches:\n        - target:\n            kind: Deployment\n            name: blgo\n          patch: |\n            - op: add\n              path: /metadata/labels/tier\n              value: web\n"}},
			[]string{"GO007 clusters/prod/argocd/application.yaml:15"}},
		{"argo component missing", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: overlays/prod\n    kustomize:\n      components:\n        - ../../components/debug\n"}},
			[]string{"GO001 clusters/prod/argocd/application.yaml:1"}},
		{"entry point outside overlays/ is checked", []fileEdit{{argoBlog, "    path: overlays/prod\n", "    path: ./regions/prod-eu\n"},
			{"regions/prod-eu/kustomization.yaml", "", strings.ReplaceAll(fixtureFile(t, "overlays/prod/kustomization.yaml"), "blog.apps.fork.test]\n  - target", "blog.eu.apps.fork.test]\n  - target")},
			{"regions/prod-eu/wasmplugin.yaml", "", fixtureFile(t, "overlays/prod/wasmplugin.yaml")}},
			[]string{"GO004 overlays/prod/kustomization.yaml:0", "RT002 regions/prod-eu/kustomization.yaml:18"}},
		{"applicationset list generator", []fileEdit{{argoBlog, "", appSet("list:\n        elements:\n          - env: prod", "blog-{{env}}", "overlays/{{env}}")},
			{"clusters/prod/argocd/kustomization.yaml", "  - application.yaml\n", "  - application.yaml\n  - appset.yaml\n"}, {"clusters/prod/argocd/appset.yaml", "", ""}}, nil},
		{"applicationset git directories generator with a typo", []fileEdit{{argoBlog, "", appSet("git:\n        repoURL: ssh://git@git.fork.test/platform/edge.git\n        revision: main\n        directories:\n          - path: overlays/*", "blog-{{path.basename}}", "overlays/{{path.basename}}/x")}},
			[]string{"GO001 clusters/prod/argocd/application.yaml:1", "GO004 overlays/prod/kustomization.yaml:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(t, loadFixture(t, tt.edits))
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// appSet is an ApplicationSet with one generator, replacing the Application.
func appSet(generator, name, path string) string {
	return `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: blog
  namespace: argocd
spec:
  generators:
    - ` + generator + `
  template:
    metadata:
      name: "` + name + `"
    spec:
      project: default
      source:
        repoURL: ssh://git@git.fork.test/platform/edge.git
        targetRevision: main
        path: "` + path + `"
      destination:
        server: https://kubernetes.default.svc
        namespace: blog
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
`
}
