package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/engine"
	"meshops.dev/meshops/validate/variants"
)

// oracle judges rendered targets with a real API server, remembering each
// (mode, object) verdict: the namespaces only ever grow, so an object the
// server judged once gets the same verdict again.
type oracle struct {
	client *Client
	mu     sync.Mutex
	cache  map[string]error
}

// objectKey names one object of one target: "overlays/dev: WasmPlugin blog/blog-headers".
type objectKey struct{ target, resource string }

func (k objectKey) String() string { return k.target + ": " + k.resource }

// judgement is both sides' verdict on one object.
type judgement struct {
	validator []string // admission findings; none: accepted
	server    []string // the server's refusals, per mode; none: accepted
}

// judge renders every target of tree, runs the validator's admission checks
// and dry-runs every object on the server in every mode.
func (o *oracle) judge(t *testing.T, tree *render.Tree) map[objectKey]*judgement {
	t.Helper()
	checks := append(check.Admission(), check.RemoteReference)
	res, err := pipeline.RunTree(tree, pipeline.Options{RootNamespace: "istio-system", Checks: checks})
	if err != nil {
		t.Fatalf("validator: %v", err)
	}
	out := map[objectKey]*judgement{}
	get := func(k objectKey) *judgement {
		if out[k] == nil {
			out[k] = &judgement{}
		}
		return out[k]
	}
	admission := map[string]bool{}
	for _, c := range check.Admission() {
		admission[c.Code] = true
	}
	for _, f := range res.Findings {
		if !admission[f.Code] {
			// Not a verdict on an object: a target that does not render
			// (RN00x) or an entry point its engine cannot build (GO001)
			// sends nothing to the server (below).
			continue
		}
		for _, tg := range f.AllTargets() { // one finding lists every target it breaks
			get(objectKey{tg, f.Resource}).validator = append(get(objectKey{tg, f.Resource}).validator, f.Code+" "+f.Message)
		}
	}
	for _, tg := range res.Targets {
		key := tg.Dir
		var ix *index.Index
		if tg.Kind.IsHelm() {
			// A Helm release's objects are the Helm engine's render
			// (render/helm), as the pipeline checked them; one that did not
			// render has its HLM finding and sends nothing.
			if ix = res.HelmRender(tg.ID()); ix == nil {
				continue
			}
			key = tg.ID()
		} else {
			// RunTree prepared the target; preparing a Flux folder again
			// would count the kustomization it generated as a manifest.
			r, err := engine.Build(tree, tg)
			if err != nil {
				// Nothing to send to the server; the validator must have said why.
				if !reported(res.Findings, tg.Dir) {
					t.Fatalf("render %s: %v, and the validator reports nothing for it", tg.Dir, err)
				}
				t.Logf("%s does not render (%v): nothing to dry-run", tg.Dir, err)
				continue
			}
			ix = index.New(r)
		}
		var objs []*unstructured.Unstructured
		for _, obj := range ix.Objects {
			objs = append(objs, &unstructured.Unstructured{Object: obj.Content})
		}
		if err := o.client.EnsureNamespaces(context.Background(), o.client.Namespaces(objs)); err != nil {
			t.Fatal(err)
		}
		for i, obj := range ix.Objects {
			if obj.Kind == "Secret" {
				// kustomize-controller decrypts a SOPS Secret and drops its
				// sops metadata before it applies it (K8S001 ignores it too).
				unstructured.RemoveNestedField(objs[i].Object, "sops")
				decrypted(objs[i].Object)
			}
			k := objectKey{key, obj.String()}
			j := get(k)
			for _, mode := range Modes {
				err := o.dryRun(t, objs[i], mode)
				var ns *NotServedError
				if errors.As(err, &ns) && len(j.validator) == 0 && !o.claims(obj) {
					// A kind of a CRD neither the harness nor the validator
					// has (a fork's cert-manager Certificate, say): neither
					// side can judge it.
					t.Logf("%s: %v; not compared", k, err)
					delete(out, k)
					break
				}
				if err != nil {
					j.server = append(j.server, string(mode)+": "+err.Error())
				}
			}
		}
	}
	return out
}

// claims reports whether the validator's admission checks judge obj's
// group: one client-go's scheme registers (K8S001), Istio's (IS001), Flux's
// or Argo CD's (GO002). For those an unserved apiVersion is a disagreement.
func (o *oracle) claims(obj *index.Object) bool {
	if strings.HasSuffix(obj.Group, ".toolkit.fluxcd.io") || obj.Group == "argoproj.io" {
		return gitopsKinds[obj.Kind] // only the kinds whose CRDs validate/gitops embeds
	}
	return scheme.Scheme.IsGroupRegistered(obj.Group) || strings.HasSuffix(obj.Group, ".istio.io")
}

// gitopsKinds are the Flux and Argo CD kinds of validate/gitops.Sources; a
// HelmRelease or HelmRepository is judged by neither side.
var gitopsKinds = map[string]bool{"Kustomization": true, "GitRepository": true, "Application": true, "AppProject": true, "ApplicationSet": true}

// reported reports whether some finding names target.
func reported(findings []check.Finding, target string) bool {
	for _, f := range findings {
		for _, tg := range f.AllTargets() {
			if tg == target {
				return true
			}
		}
	}
	return false
}

func (o *oracle) dryRun(t *testing.T, obj *unstructured.Unstructured, mode Mode) error {
	t.Helper()
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	key := string(mode) + "\x00" + string(raw)
	o.mu.Lock()
	verdict, ok := o.cache[key]
	o.mu.Unlock()
	if ok {
		return verdict
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	verdict = o.client.DryRun(ctx, obj, mode)
	if _, ok := verdict.(*TransportError); ok {
		t.Fatalf("dry-run %s %s: %v", obj.GetKind(), obj.GetName(), verdict)
	}
	o.mu.Lock()
	o.cache[key] = verdict
	o.mu.Unlock()
	return verdict
}

// disagreements lists, sorted, the objects one side rejects and the other
// admits, each with both sides' reasons.
func disagreements(js map[objectKey]*judgement) []string {
	var out []string
	for k, j := range js {
		if (len(j.validator) > 0) != (len(j.server) > 0) {
			out = append(out, fmt.Sprintf("%s\n\tvalidator: %s\n\tserver:    %s", k, orAccepts(j.validator), orAccepts(j.server)))
		}
	}
	sort.Strings(out)
	return out
}

func orAccepts(reasons []string) string {
	if len(reasons) == 0 {
		return "accepts"
	}
	return strings.Join(reasons, "\n\t           ")
}

// rejected counts the objects each side rejects.
func rejected(js map[objectKey]*judgement) (validator, server int) {
	for _, j := range js {
		if len(j.validator) > 0 {
			validator++
		}
		if len(j.server) > 0 {
			server++
		}
	}
	return validator, server
}

func newOracle(t *testing.T) *oracle {
	s := startServer(t)
	c, err := NewClient(s.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, c)
	return &oracle{client: c, cache: map[string]error{}}
}

// TestOracle holds the validator's admission checks (check.Admission) to a
// real kube-apiserver's verdict, object by object: on the repository as it
// ships, on every broken variant, and on Istio's own CRD validation suite.
func TestOracle(t *testing.T) {
	o := newOracle(t)

	t.Run("repository", func(t *testing.T) {
		tree, err := render.LoadDir(repoRoot)
		if err != nil {
			t.Fatal(err)
		}
		js := o.judge(t, tree)
		for _, d := range disagreements(js) {
			t.Error(d)
		}
		for k, j := range js {
			if len(j.validator)+len(j.server) > 0 {
				t.Errorf("the shipped repository must pass both: %s\n\tvalidator: %s\n\tserver:    %s", k, orAccepts(j.validator), orAccepts(j.server))
			}
		}
		t.Logf("%d objects, all admitted by both", len(js))
	})

	t.Run("variants", func(t *testing.T) {
		all, err := variants.All()
		if err != nil {
			t.Fatal(err)
		}
		fork, err := variants.Fixture(filepath.Join("..", "testdata", "fork"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range all {
			t.Run(v.Name, func(t *testing.T) {
				files := maps.Clone(fork)
				if err := v.Apply(files); err != nil {
					t.Fatal(err)
				}
				tree := render.NewTree(v.Name)
				for _, p := range variants.Paths(files) {
					if err := tree.Add(p, files[p]); err != nil {
						t.Fatal(err)
					}
				}
				js := o.judge(t, tree)
				for _, d := range disagreements(js) {
					t.Error(d)
				}
				v, s := rejected(js)
				t.Logf("%d objects: the validator rejects %d, the server %d", len(js), v, s)
			})
		}
	})

	t.Run("server-rules", func(t *testing.T) {
		js := o.judge(t, fixtureTree(t, filepath.Join("..", "check", "testdata", "server-rules")))
		for _, d := range disagreements(js) {
			t.Error(d)
		}
		if j, ok := js[objectKey{"overlays/unknown-kind-valid", "Certificate shop/web"}]; ok {
			t.Errorf("a kind no CRD serves was compared: %+v", j)
		}
		v, s := rejected(js)
		t.Logf("%d objects: the validator rejects %d, the server %d", len(js), v, s)
	})

	t.Run("istio-crd-suite", func(t *testing.T) {
		suite := istioSuite(t)
		js := o.judge(t, suite.tree)
		for _, d := range disagreements(js) {
			t.Error(d)
		}
		v, s := rejected(js)
		t.Logf("%d documents: the validator rejects %d, the server %d", len(js), v, s)
		// The suite's own expectation: every document of an *-invalid.yaml
		// file is rejected by the CRD, every one of *-valid.yaml admitted.
		for k, j := range js {
			want := suite.invalid[k.target]
			if got := len(j.server) > 0; got != want {
				t.Errorf("%s (%s): server rejects=%v, Istio's suite expects %v: %s", k, suite.source[k.target], got, want, orAccepts(j.server))
			}
		}
	})
}

// decrypted stands in for what kustomize-controller's SOPS decryption
// gives a Secret: each ENC[...] value becomes "{}" (in data, base64 "e30="),
// content every Secret type accepts (a docker config must be JSON). The
// validator cannot know the plaintext either (K8S001 decodes a stand-in).
func decrypted(obj map[string]any) {
	for field, value := range map[string]string{"data": "e30=", "stringData": "{}"} {
		m, _ := obj[field].(map[string]any)
		for k, v := range m {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "ENC[") && strings.HasSuffix(s, "]") {
				m[k] = value
			}
		}
	}
}
