package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"meshops.dev/meshops/validate/charts"
	"meshops.dev/meshops/validate/mesh"
)

// serveChart serves one chart, packaged with Helm's SDK, from a chart
// repository on 127.0.0.1, and returns the repository's URL and the archive.
func serveChart(t *testing.T, name, version string) (string, []byte) {
	t.Helper()
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version},
		Templates: []*common.File{{Name: "templates/cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n")}},
	}
	dir := t.TempDir()
	file, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	idx := repo.NewIndexFile()
	base := filepath.Base(file)
	if err := idx.MustAdd(c.Metadata, base, srv.URL, strings.TrimPrefix(charts.Digest(archive), "sha256:")); err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	return srv.URL, archive
}

// writeRepo writes a repository whose Flux Kustomization applies
// infrastructure/, with a HelmRelease of the served chart and one of Istio's
// istiod chart at the validator's release.
func writeRepo(t *testing.T, repoURL, version string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"clusters/dev/flux/infrastructure.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infrastructure\n  namespace: flux-system\nspec:\n  interval: 1h\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ./infrastructure\n  prune: true\n",
		"infrastructure/kustomization.yaml":     "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - releases.yaml\n",
		"infrastructure/releases.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: team\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: " + repoURL + "\n---\n" +
			"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: podinfo\n      version: " + version + "\n      sourceRef:\n        kind: HelmRepository\n        name: team\n---\n" +
			"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: istiod\n      version: " + mesh.Version + ".0\n      sourceRef:\n        kind: HelmRepository\n        name: team\n        namespace: flux-system\n",
	}
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestMakeCharts(t *testing.T) {
	url, archive := serveChart(t, "podinfo", "6.5.0")
	root := writeRepo(t, url, "6.5.0")
	cache := t.TempDir()
	digest := charts.Digest(archive)
	skip := "skip     infrastructure/releases.yaml:25: HelmRelease istio-system/istiod: chart istiod " + mesh.Version + ".0 from " + url +
		": ships inside the pinned istio.io/istio module (Istio " + mesh.Version + ")\n"

	var stdout, stderr bytes.Buffer
	if code := run([]string{"--repo", root, "--cache", cache}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := skip + "recorded chart podinfo 6.5.0 from " + url + " (" + digest + ")\n" +
		"1 chart versions cached in " + cache + ", digests in charts.lock\n"
	if stdout.String() != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	lock, err := charts.ReadLock(filepath.Join(root, charts.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Charts) != 1 || lock.Charts[0] != (charts.Locked{Repo: url, Chart: "podinfo", Version: "6.5.0", Digest: digest}) {
		t.Fatalf("lock = %+v", lock.Charts)
	}

	stdout.Reset()
	if code := run([]string{"--repo", root, "--cache", cache}, &stdout, &stderr); code != 0 {
		t.Fatalf("second run exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "verified chart podinfo 6.5.0 from "+url+" ("+digest+")\n") {
		t.Fatalf("second run:\n%s", stdout.String())
	}

	// A pin of a version the repository does not serve: exit 1, the lock kept.
	root2 := writeRepo(t, url, "6.6.0")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"--repo", root2, "--cache", cache}, &stdout, &stderr); code != 1 {
		t.Fatalf("missing version: exit %d, want 1", code)
	}
	wantErr := "charts: chart podinfo version 6.6.0 is not in the repository " + url + " (it serves 6.5.0); pin one of those versions\n" +
		"charts: charts.lock left unchanged\n"
	if stderr.String() != wantErr {
		t.Fatalf("stderr:\n%s\nwant:\n%s", stderr.String(), wantErr)
	}
	if _, err := os.Stat(filepath.Join(root2, charts.LockFile)); !os.IsNotExist(err) {
		t.Fatalf("a failed run wrote the lock: %v", err)
	}
}
