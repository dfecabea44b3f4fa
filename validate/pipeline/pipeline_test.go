package pipeline

import (
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
)

const repoRoot = "../.."

func load(t *testing.T) *render.Tree {
	t.Helper()
	tree, err := render.LoadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestCleanRepositoryHasNoFinding(t *testing.T) {
	res, err := RunTree(load(t), Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("unexpected finding: %s", f)
	}
	// 6 cluster folders; per cluster, Flux's istio and blog Kustomizations
	// and Argo CD's blog Application (its Istio Applications are Helm charts);
	// no overlay is left undeployed.
	if len(res.Targets) != 15 {
		t.Errorf("%d targets, want 15 (6 cluster folders, 9 entry points)", len(res.Targets))
	}
}

// edit replaces old with new in one file of the tree.
type edit struct{ file, old, new string }

// TestBrokenVariants breaks the repository one defect at a time and expects
// the right check to name the right file and resource.
func TestBrokenVariants(t *testing.T) {
	tests := []struct {
		name     string
		edits    []edit
		code     string
		file     string
		resource string
		message  string
	}{
		{"selector typo", []edit{{"base/wasmplugin/wasmplugin.yaml", "      app: blog\n  # Keep", "      app: blgo\n  # Keep"}},
			"WP001", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "app: blgo vs app: blog"},
		{"plugin in another namespace", []edit{{"base/wasmplugin/wasmplugin.yaml", "namespace: blog", "namespace: web"}, {"overlays/dev/wasmplugin.yaml", "namespace: blog", "namespace: web"}, {"overlays/staging/wasmplugin.yaml", "namespace: blog", "namespace: web"}, {"overlays/prod/wasmplugin.yaml", "namespace: blog", "namespace: web"}},
			"WP001", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin web/blog-headers", "renders no workload there"},
		{"no sidecar injection", []edit{{"base/blog/namespace.yaml", "istio-injection: enabled", "istio-injection: disabled"}},
			"WP002", "base/blog/namespace.yaml", "Namespace blog", "istio-injection=disabled"},
		{"pod opts out of injection", []edit{{"base/blog/deployment.yaml", "        version: v1\n", "        version: v1\n        sidecar.istio.io/inject: \"false\"\n"}},
			"WP002", "base/blog/deployment.yaml", "Deployment blog/blog", "sidecar.istio.io/inject: \"false\""},
		{"selector and targetRefs", []edit{{"base/wasmplugin/wasmplugin.yaml", "  type: HTTP\n", "  type: HTTP\n  targetRefs:\n    - kind: Deployment\n      name: blog\n"}},
			"WP003", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "sets both selector and targetRefs"},
		{"latest plugin tag", []edit{{"overlays/dev/kustomization.yaml", "newTag: v0.1.0", "newTag: latest"}},
			"WP004", "overlays/dev/kustomization.yaml", "WasmPlugin blog/blog-headers", "uses the latest tag"},
		{"digest and sha256 disagree", []edit{{"overlays/dev/kustomization.yaml", "newTag: v0.1.0", "digest: sha256:" + strings.Repeat("a", 64)}, {"overlays/dev/wasmplugin.yaml", "spec:\n", "spec:\n  sha256: " + strings.Repeat("b", 64) + "\n"}},
			"WP004", "overlays/dev/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "disagree"},
		{"bad pluginConfig", []edit{{"overlays/dev/wasmplugin.yaml", "name: x-environment", "name: x environment"}},
			"WP005", "overlays/dev/wasmplugin.yaml", "WasmPlugin blog/blog-headers", `responseHeaders[1].name: "x environment" is not a valid HTTP header name`},
		{"bad pluginConfig in base", []edit{{"base/wasmplugin/wasmplugin.yaml", "      - name: hello", "      - name: hello\n        valeu: x"}, {"overlays/prod/wasmplugin.yaml", "  pluginConfig:", "  pluginConfigX:"}},
			"IS001", "overlays/prod/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "pluginConfigX"},
		{"empty pluginName", []edit{{"base/wasmplugin/wasmplugin.yaml", "  type: HTTP\n", "  type: HTTP\n  pluginName: \"\"\n"}},
			"IS001", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "pluginName"},
		{"unknown WasmPlugin field", []edit{{"base/wasmplugin/wasmplugin.yaml", "  type: HTTP\n", "  type: HTTP\n  failStrategyy: FAIL_OPEN\n"}},
			"IS001", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "failStrategyy"},
		{"bad enum", []edit{{"base/wasmplugin/wasmplugin.yaml", "phase: UNSPECIFIED_PHASE", "phase: EARLY"}},
			"IS002", "base/wasmplugin/wasmplugin.yaml", "WasmPlugin blog/blog-headers", "EARLY"},
		{"bad gateway port", []edit{{"base/ingress/gateway.yaml", "number: 80", "number: 0"}},
			"IS002", "base/ingress/gateway.yaml", "Gateway blog/blog", "port"},
		{"gateway missing", []edit{{"base/ingress/virtualservice.yaml", "    - blog\n  http:", "    - blog-gw\n  http:"}},
			"RT001", "base/ingress/virtualservice.yaml", "VirtualService blog/blog", "Gateway blog/blog-gw"},
		{"host not on gateway", []edit{{"overlays/dev/kustomization.yaml", "path: /spec/hosts\n        value: [blog.dev.example.com]", "path: /spec/hosts\n        value: [blog.dev.example.org]"}},
			"RT002", "overlays/dev/kustomization.yaml", "VirtualService blog/blog", `host "blog.dev.example.org" is not served`},
		{"destination missing", []edit{{"base/ingress/virtualservice.yaml", "host: blog.blog.svc.cluster.local", "host: blog.web.svc.cluster.local"}},
			"RT003", "base/ingress/virtualservice.yaml", "VirtualService blog/blog", `"blog.web.svc.cluster.local" is no Service`},
		{"destination port", []edit{{"base/ingress/virtualservice.yaml", "number: 80", "number: 8080"}},
			"RT004", "base/ingress/virtualservice.yaml", "VirtualService blog/blog", "port 8080 is not a port"},
		{"service selects nothing", []edit{{"base/blog/service.yaml", "  selector:\n    app: blog", "  selector:\n    app: blog-web"}},
			"WL001", "base/blog/service.yaml", "Service blog/blog", "app: blog-web vs app: blog"},
		{"target port name", []edit{{"base/blog/service.yaml", "targetPort: http", "targetPort: web"}},
			"WL002", "base/blog/service.yaml", "Service blog/blog", `port name "web"`},
		{"deployment selector", []edit{{"base/blog/deployment.yaml", "  selector:\n    matchLabels:\n      app: blog", "  selector:\n    matchLabels:\n      app: blog\n      tier: web"}},
			"WL003", "base/blog/deployment.yaml", "Deployment blog/blog", "does not match its pod template labels"},
		{"unknown field", []edit{{"base/blog/deployment.yaml", "automountServiceAccountToken: false", "automountServiceAccountToken: false\n      imagePullPolcy: Always"}},
			"K8S001", "base/blog/deployment.yaml", "Deployment blog/blog", "imagePullPolcy"},
		{"bad label", []edit{{"base/blog/service.yaml", "  labels:\n    app: blog", "  labels:\n    app: blog web"}},
			"K8S002", "base/blog/service.yaml", "Service blog/blog", "metadata.labels"},
		{"latest image", []edit{{"overlays/staging/kustomization.yaml", "newTag: 1.27.3-alpine", "newTag: latest"}},
			"IMG001", "overlays/staging/kustomization.yaml", "Deployment blog/blog", "uses the latest tag"},
		{"overlay does not pin", []edit{{"overlays/prod/kustomization.yaml", "  - name: docker.io/nginxinc/nginx-unprivileged\n    newTag: 1.27.3-alpine\n", ""}},
			"IMG002", "overlays/prod/kustomization.yaml", "Deployment blog/blog", "does not pin docker.io/nginxinc/nginx-unprivileged"},
		{"plugin pin without newName", []edit{{"overlays/staging/kustomization.yaml", "    newName: oci://ghcr.io/your-org/meshops-plugin\n", ""}},
			"IMG002", "overlays/staging/kustomization.yaml", "", "sets no newName"},
		{"misspelt istio annotation", []edit{{"base/blog/deployment.yaml", "        version: v1\n", "        version: v1\n      annotations:\n        sidecar.istio.io/injectt: \"true\"\n"}},
			"IS003", "base/blog/deployment.yaml", "Deployment blog/blog", `"sidecar.istio.io/injectt" is not an Istio annotation`},
		{"injection label on the deployment", []edit{{"base/blog/deployment.yaml", "  labels:\n    app: blog\nspec:", "  labels:\n    app: blog\n    sidecar.istio.io/inject: \"false\"\nspec:"}},
			"IS003", "base/blog/deployment.yaml", "Deployment blog/blog", `label "sidecar.istio.io/inject" applies to Pod, not Deployment`},
		{"port without protocol", []edit{{"base/blog/service.yaml", "    - name: http\n", "    - name: web\n"}},
			"WL004", "base/blog/service.yaml", "Service blog/blog", `named "web", which declares no protocol`},
		{"two virtualservices one host", []edit{{"base/ingress/virtualservice.yaml", "  http:\n", "  http:\n    - route:\n        - destination:\n            host: blog\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: blog-canary\n  namespace: blog\nspec:\n  hosts:\n    - blog.example.com\n  gateways:\n    - blog\n  http:\n"}, {"overlays/dev/kustomization.yaml", "      kind: VirtualService\n      name: blog\n", "      kind: VirtualService\n"}},
			"RT005", "overlays/dev/kustomization.yaml", "VirtualService blog/blog-canary", `is already routed by VirtualService blog/blog`},
		{"two gateways one host", []edit{{"base/ingress/gateway.yaml", "        - blog.example.com\n", "        - blog.example.com\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: blog-2\n  namespace: blog\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n    - port:\n        number: 80\n        name: http\n        protocol: HTTP\n      hosts:\n        - blog.example.com\n"}},
			"RT006", "base/ingress/gateway.yaml", "Gateway blog/blog-2", "is already served by Gateway blog/blog"},
		{"probe on undeclared port", []edit{{"base/blog/deployment.yaml", "            httpGet:\n              path: /\n              port: http\n            periodSeconds: 5", "            httpGet:\n              path: /\n              port: web\n            periodSeconds: 5"}},
			"WL005", "base/blog/deployment.yaml", "Deployment blog/blog", `readinessProbe probes port "web"`},
		{"request above limit", []edit{{"base/blog/deployment.yaml", "              memory: 32Mi", "              memory: 256Mi"}},
			"K8S003", "base/blog/deployment.yaml", "Deployment blog/blog", "requests memory 256Mi, more than its limit 128Mi"},
		{"http route to tcp port", []edit{{"base/blog/service.yaml", "    - name: http\n", "    - name: tcp-web\n"}},
			"RT007", "base/blog/service.yaml", "Service blog/blog", "declared tcp"},
		{"overlay entry without tag", []edit{{"overlays/prod/kustomization.yaml", "  - name: docker.io/nginxinc/nginx-unprivileged\n    newTag: 1.27.3-alpine\n", "  - name: docker.io/nginxinc/nginx-unprivileged\n"}},
			"IMG002", "overlays/prod/kustomization.yaml", "Deployment blog/blog", "does not pin"},
		{"entry point path", []edit{{"clusters/staging/flux/blog.yaml", "path: ./overlays/staging", "path: ./overlays/stage"}},
			"GO001", "clusters/staging/flux/blog.yaml", "Kustomization flux-system/blog", "kustomization path not found: overlays/stage"},
		{"flux field typo", []edit{{"clusters/dev/flux/blog.yaml", "wait: true", "wiat: true"}},
			"GO002", "clusters/dev/flux/blog.yaml", "Kustomization flux-system/blog", "wiat"},
		{"flux without prune", []edit{{"clusters/staging/flux/blog.yaml", "  prune: true\n", ""}},
			"GO002", "clusters/staging/flux/blog.yaml", "Kustomization flux-system/blog", "spec.prune: Required value"},
		{"argo sync typo", []edit{{"clusters/prod/argocd/application.yaml", "selfHeal: true", "selfheal: true"}},
			"GO002", "clusters/prod/argocd/application.yaml", "Application argocd/blog-prod", "selfheal"},
		{"repo url", []edit{{"clusters/prod/argocd/application.yaml", "your-org/meshops.git", "someone/meshops.git"}},
			"GO003", "clusters/prod/argocd/application.yaml", "Application argocd/blog-prod", "someone/meshops"},
		{"overlay not deployed", []edit{{"clusters/prod/argocd/application.yaml", "path: overlays/prod", "path: overlays/staging"}, {"clusters/prod/flux/blog.yaml", "path: ./overlays/prod", "path: ./overlays/staging"}},
			"GO004", "overlays/prod/kustomization.yaml", "", "no Flux Kustomization or Argo CD Application"},
		{"plaintext secret", []edit{{"base/blog/kustomization.yaml", "  - service.yaml\n", "  - service.yaml\nsecretGenerator:\n  - name: token\n    namespace: blog\n    literals: [token=hunter2]\n"}},
			"SEC001", "base/blog/kustomization.yaml", "Secret blog/token-", "plaintext data"},
		{"remote base", []edit{{"overlays/dev/kustomization.yaml", "  - ../../base\n", "  - ../../base\n  - github.com/your-org/shared//base?ref=v1\n"}},
			"RN001", "overlays/dev/kustomization.yaml", "", "remote reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := load(t)
			for _, e := range tt.edits {
				data, err := tree.ReadFile(e.file)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), e.old) {
					t.Fatalf("%s does not contain %q", e.file, e.old)
				}
				if err := tree.Add(e.file, []byte(strings.Replace(string(data), e.old, e.new, 1))); err != nil {
					t.Fatal(err)
				}
			}
			res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, f := range res.Findings {
				if f.Code == tt.code && f.File == tt.file && strings.HasPrefix(f.Resource, tt.resource) && strings.Contains(f.Message, tt.message) {
					found = true
				}
			}
			if !found {
				var all []string
				for _, f := range res.Findings {
					all = append(all, f.String())
				}
				t.Errorf("no %s finding in %s (%s) containing %q; findings:\n%s", tt.code, tt.file, tt.resource, tt.message, strings.Join(all, "\n"))
			}
		})
	}
}

func TestIgnoreAnnotation(t *testing.T) {
	tree := load(t)
	data, _ := tree.ReadFile("base/wasmplugin/wasmplugin.yaml")
	broken := strings.Replace(string(data), "      app: blog\n  # Keep", "      app: blgo\n  # Keep", 1)
	broken = strings.Replace(broken, "  namespace: blog\n", "  namespace: blog\n  annotations:\n    "+check.IgnoreAnnotation+": IMG001, WP001\n", 1)
	if err := tree.Add("base/wasmplugin/wasmplugin.yaml", []byte(broken)); err != nil {
		t.Fatal(err)
	}
	res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("finding not silenced: %s", f)
	}
}

func TestStableOutput(t *testing.T) {
	tree := load(t)
	data, _ := tree.ReadFile("base/blog/service.yaml")
	_ = tree.Add("base/blog/service.yaml", []byte(strings.Replace(string(data), "targetPort: http", "targetPort: web", 1)))
	first, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		again, err := RunTree(tree, Options{RootNamespace: "istio-system"})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Findings) != len(first.Findings) {
			t.Fatalf("run %d: %d findings, first run %d", i, len(again.Findings), len(first.Findings))
		}
		for j := range again.Findings {
			if again.Findings[j].String() != first.Findings[j].String() {
				t.Errorf("run %d finding %d: %s, first run %s", i, j, again.Findings[j], first.Findings[j])
			}
		}
	}
}

// TestPluginPin proves that an overlay's images: entry pins the plugin url
// right, and that the result passes every check including Istio's admission,
// for a registry without a port and for one with a port.
func TestPluginPin(t *testing.T) {
	tests := []struct{ repo, pin, want string }{
		{"oci://ghcr.io/your-org/meshops-plugin", "newTag: v2", "oci://ghcr.io/your-org/meshops-plugin:v2"},
		{"oci://localhost:5000/team/plugin", "newTag: v2", "oci://localhost:5000/team/plugin:v2"},
		{"oci://localhost:5000/team/plugin", "digest: sha256:" + strings.Repeat("0123456789abcdef", 4), "oci://localhost:5000/team/plugin@sha256:" + strings.Repeat("0123456789abcdef", 4)},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			tree := load(t)
			replace := func(file, old, new string) {
				data, err := tree.ReadFile(file)
				if err != nil || !strings.Contains(string(data), old) {
					t.Fatalf("%s does not contain %q", file, old)
				}
				if err := tree.Add(file, []byte(strings.ReplaceAll(string(data), old, new))); err != nil {
					t.Fatal(err)
				}
			}
			replace("base/wasmplugin/wasmplugin.yaml", "oci://ghcr.io/your-org/meshops-plugin:v0.1.0", tt.repo+":v1")
			for _, env := range []string{"dev", "staging", "prod"} {
				replace("overlays/"+env+"/kustomization.yaml", "oci://ghcr.io/your-org/meshops-plugin", tt.repo)
			}
			replace("overlays/dev/kustomization.yaml", "newTag: v0.1.0", tt.pin)
			res, err := render.Render(tree, render.Target{Kind: render.Overlay, Dir: "overlays/dev"})
			if err != nil {
				t.Fatal(err)
			}
			var url string
			for _, r := range res.Resources.Resources() {
				if r.GetKind() == "WasmPlugin" {
					m, _ := r.Map()
					url, _ = m["spec"].(map[string]any)["url"].(string)
				}
			}
			if url != tt.want {
				t.Errorf("rendered url %q, want %q", url, tt.want)
			}
			run, err := RunTree(tree, Options{RootNamespace: "istio-system"})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range run.Findings {
				t.Errorf("finding: %s", f)
			}
		})
	}
}

func TestFindingLine(t *testing.T) {
	tree := load(t)
	second := "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: blog-2\n  namespace: blog\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n    - port:\n        number: 80\n        name: http\n        protocol: HTTP\n      hosts:\n        - blog.example.com\n"
	data, _ := tree.ReadFile("base/ingress/gateway.yaml")
	if err := tree.Add("base/ingress/gateway.yaml", append(data, []byte(second)...)); err != nil {
		t.Fatal(err)
	}
	want := strings.Count(string(data), "\n") + 2 // the line after the separator
	res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		if f.Code == "RT006" {
			found = true
			if f.Line != want {
				t.Errorf("RT006 at line %d, want %d", f.Line, want)
			}
		}
	}
	if !found {
		t.Error("no RT006 finding")
	}
}

// TestAfterFluxBootstrap adds what flux bootstrap commits to
// clusters/dev/flux: the repository must still validate cleanly.
func TestAfterFluxBootstrap(t *testing.T) {
	tree := load(t)
	files := map[string]string{
		"clusters/dev/flux/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-sync.yaml\n",
		"clusters/dev/flux/flux-system/gotk-sync.yaml": `# This manifest was generated by flux. DO NOT EDIT.
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/your-org/meshops
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/dev/flux
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
	}
	for f, data := range files {
		if err := tree.Add(f, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := RunTree(tree, Options{RootNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("finding after bootstrap: %s", f)
	}
}
