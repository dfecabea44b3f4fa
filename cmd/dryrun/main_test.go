package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"meshops.dev/meshops/validate/apiserver"
	"meshops.dev/meshops/validate/gitops"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
	"meshops.dev/meshops/validate/variants"
)

const fork = "../../validate/testdata/fork"

// cluster starts the harness's kube-apiserver as a stand-in for a team's
// cluster: Istio's, Flux's and Argo CD's CRDs installed and the fixture's
// namespaces created, as they are where the repository is deployed. It
// returns a kubeconfig file whose context "oracle" points at it.
func cluster(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBE_TOOLS_BIN")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := apiserver.FindBinaries(abs)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, so the dry-run against a cluster must be tested: %v", err)
		}
		t.Skipf("testing the dry-run needs a real etcd and kube-apiserver: %v", err)
	}
	s, err := apiserver.Start(context.Background(), bins, apiserver.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	cfg := s.RESTConfig()
	client, err := apiserver.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	manifests := [][]byte{istio.CRDs}
	for _, src := range gitops.Sources {
		data, err := gitops.Embedded(src)
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, data)
	}
	if err := client.InstallCRDs(context.Background(), manifests...); err != nil {
		t.Fatal(err)
	}
	tree, err := render.LoadDir(fork)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := render.Discover(tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		res, err := kustomize.Render(tree, tg)
		if err != nil {
			t.Fatal(err)
		}
		var objs []*unstructured.Unstructured
		for _, o := range index.New(res).Objects {
			objs = append(objs, &unstructured.Unstructured{Object: o.Content})
		}
		if err := client.EnsureNamespaces(context.Background(), client.Namespaces(objs)); err != nil {
			t.Fatal(err)
		}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["oracle"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["oracle"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["oracle"] = &clientcmdapi.Context{Cluster: "oracle", AuthInfo: "oracle"}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDryRunAgainstACluster sends the fork fixture, then a broken copy of
// it, to a real API server through a kubeconfig context.
func TestDryRunAgainstACluster(t *testing.T) {
	kubeconfig := cluster(t)

	var out, errs bytes.Buffer
	if code := run([]string{"--context", "oracle", "--kubeconfig", kubeconfig, fork}, &out, &errs); code != 0 {
		t.Fatalf("exit %d on the fork fixture:\n%s%s", code, out.String(), errs.String())
	}
	if got, want := out.String(), "9 targets sent to context oracle: 0 refusals\n"; got != want {
		t.Errorf("output on the fork fixture:\n%s\nwant:\n%s", got, want)
	}

	files, err := variants.Fixture(fork)
	if err != nil {
		t.Fatal(err)
	}
	broken := variants.Variant{Name: "unknown pull policy", Edits: []variants.Edit{{
		File: "base/blog/deployment.yaml",
		Old:  "          image: docker.io/nginxinc/nginx-unprivileged:1.27.3-alpine\n",
		New:  "          image: docker.io/nginxinc/nginx-unprivileged:1.27.3-alpine\n          imagePullPolicy: Sometimes\n",
	}}}
	if err := broken.Apply(files); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for p, data := range files {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	errs.Reset()
	if code := run([]string{"--context", "oracle", "--kubeconfig", kubeconfig, root}, &out, &errs); code != 1 {
		t.Fatalf("exit %d on the broken copy, want 1:\n%s%s", code, out.String(), errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// Three overlays render the Deployment; each is refused in both modes.
	if len(lines) != 7 || lines[6] != "9 targets sent to context oracle: 6 refusals" {
		t.Fatalf("output:\n%s", out.String())
	}
	want := `[overlays/dev] base/blog/deployment.yaml:1 (Deployment blog/blog): server-side apply: Deployment.apps "blog" is invalid: spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`
	if lines[0] != want {
		t.Errorf("first refusal:\n%s\nwant:\n%s", lines[0], want)
	}
}

// TestDryRunNeedsAContext: without --context it refuses to guess.
func TestDryRunNeedsAContext(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{fork}, &out, &errs); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if got := errs.String(); got != "usage: dryrun --context <kubeconfig context> [--kubeconfig file] [repo-root]\n" {
		t.Errorf("stderr = %q", got)
	}
}
