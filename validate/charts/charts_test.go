package charts

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	v2loader "helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"meshops.dev/meshops/internal/testrepo"
)

// packageChart builds a small chart with Helm's SDK and returns its archive.
func packageChart(t *testing.T, name, version string) []byte {
	t.Helper()
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, Type: "application"},
		Templates: []*common.File{{Name: "templates/configmap.yaml",
			Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n")}},
		Values: map[string]any{"greeting": "hello"},
	}
	file, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// chartRepo is a Helm chart repository served on 127.0.0.1: an index.yaml
// that Helm's SDK writes, and the archives it lists.
type chartRepo struct {
	*httptest.Server
	archiveGets atomic.Int32
}

func serveRepo(t *testing.T, archives map[string][]byte) *chartRepo {
	t.Helper()
	r := &chartRepo{}
	mux := http.NewServeMux()
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	idx := repo.NewIndexFile()
	for file, data := range archives {
		md := chartMeta(t, data)
		if err := idx.MustAdd(md, file, r.URL+"/charts", Digest(data)[len("sha256:"):]); err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("/charts/"+file, func(w http.ResponseWriter, _ *http.Request) {
			r.archiveGets.Add(1)
			_, _ = w.Write(archives[file])
		})
	}
	idx.SortEntries()
	dir := t.TempDir()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(index) })
	return r
}

func chartMeta(t *testing.T, archive []byte) *chart.Metadata {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "c.tgz")
	if err := os.WriteFile(f, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := v2loader.LoadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return c.Metadata
}

func httpFetcher() *Fetcher { return &Fetcher{Getters: getter.Getters()} }

func TestSyncFetchesRecordsAndVerifies(t *testing.T) {
	archive := packageChart(t, "podinfo", "6.5.0")
	other := packageChart(t, "podinfo", "6.4.0")
	srv := serveRepo(t, map[string][]byte{"podinfo-6.5.0.tgz": archive, "podinfo-6.4.0.tgz": other})
	dir := t.TempDir()
	lockFile := filepath.Join(t.TempDir(), LockFile)
	want := []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.5.0"}}

	// First run: fetched, and the digest recorded.
	c, err := Open(dir, lockFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Sync(httpFetcher(), want)
	if err != nil {
		t.Fatal(err)
	}
	digest := Digest(archive)
	if len(res) != 1 || res[0].Status != Recorded || res[0].Digest != digest {
		t.Fatalf("first sync = %+v, want one chart recorded with %s", res, digest)
	}
	if err := c.Lock.Write(lockFile); err != nil {
		t.Fatal(err)
	}
	lock, err := ReadLock(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	wantLock := []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.5.0", Digest: digest}}
	if fmt.Sprint(lock.Charts) != fmt.Sprint(wantLock) {
		t.Fatalf("lock = %v, want %v", lock.Charts, wantLock)
	}
	path, err := c.Path(srv.URL, "podinfo", "6.5.0")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, archive) {
		t.Fatalf("Path %s does not hold the served archive", path)
	}
	if n := srv.archiveGets.Load(); n != 1 {
		t.Fatalf("archive downloaded %d times, want 1", n)
	}

	// Second run, from the committed lock: verified, nothing downloaded.
	c2, err := Open(dir, lockFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err = c2.Sync(httpFetcher(), want)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Status != Verified || res[0].File != path {
		t.Fatalf("second sync = %+v, want the cached archive verified", res)
	}
	if n := srv.archiveGets.Load(); n != 1 {
		t.Fatalf("second run downloaded the archive again (%d downloads)", n)
	}

	// An empty cache with the lock (a fresh CI runner): fetched and checked
	// against the lock's digest.
	c3, err := Open(t.TempDir(), lockFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err = c3.Sync(httpFetcher(), want)
	if err != nil || len(res) != 1 || res[0].Status != Fetched {
		t.Fatalf("sync into an empty cache = %+v, %v; want fetched", res, err)
	}
}

func TestTamperedArchiveRefused(t *testing.T) {
	archive := packageChart(t, "podinfo", "6.5.0")
	srv := serveRepo(t, map[string][]byte{"podinfo-6.5.0.tgz": archive})
	lockFile := filepath.Join(t.TempDir(), LockFile)
	c, err := Open(t.TempDir(), lockFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.5.0"}}
	res, err := c.Sync(httpFetcher(), want)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(res[0].File, packageChart(t, "podinfo", "6.5.0-evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = c.Path(srv.URL, "podinfo", "6.5.0")
	var de *DigestError
	if !errors.As(err, &de) || errors.Is(err, ErrNotCached) {
		t.Fatalf("Path on a tampered archive = %v, want a DigestError", err)
	}
	if !strings.Contains(err.Error(), "chart podinfo 6.5.0 from "+srv.URL) {
		t.Fatalf("error does not name the chart: %v", err)
	}
	before := c.Lock.Charts
	if _, err := c.Sync(httpFetcher(), want); !errors.As(err, &de) {
		t.Fatalf("Sync over a tampered archive = %v, want a DigestError", err)
	}
	if fmt.Sprint(c.Lock.Charts) != fmt.Sprint(before) {
		t.Fatalf("a failed sync changed the lock: %v", c.Lock.Charts)
	}

	// A repository that republishes the version with other content.
	lock := &Lock{Charts: []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.5.0", Digest: Digest([]byte("other"))}}}
	c2 := &Cache{Dir: t.TempDir(), Lock: lock}
	_, err = c2.Sync(httpFetcher(), want)
	if err == nil || !strings.Contains(err.Error(), "chart podinfo 6.5.0") || !strings.Contains(err.Error(), "records "+Digest([]byte("other"))) {
		t.Fatalf("Sync of a republished version = %v, want an error naming the chart and both digests", err)
	}
}

func TestMissingVersionRefused(t *testing.T) {
	srv := serveRepo(t, map[string][]byte{
		"podinfo-6.5.0.tgz": packageChart(t, "podinfo", "6.5.0"),
		"podinfo-6.4.0.tgz": packageChart(t, "podinfo", "6.4.0"),
	})
	c := &Cache{Dir: t.TempDir(), Lock: &Lock{}}
	_, err := c.Sync(httpFetcher(), []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.6.0"}})
	want := "chart podinfo version 6.6.0 is not in the repository " + srv.URL + " (it serves 6.4.0, 6.5.0); pin one of those versions"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	// Helm's IndexFile.Get would fall back to a close version for 6.5;
	// a pin takes only the exact one.
	_, err = c.Sync(httpFetcher(), []Locked{{Repo: srv.URL, Chart: "podinfo", Version: "6.5"}})
	var ve *VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a VersionError", err)
	}
	_, err = c.Sync(httpFetcher(), []Locked{{Repo: srv.URL, Chart: "nginx", Version: "1.0.0"}})
	if err == nil || err.Error() != "chart nginx is not in the repository "+srv.URL {
		t.Fatalf("err = %v", err)
	}
	if len(c.Lock.Charts) != 0 {
		t.Fatalf("lock = %v, want it empty", c.Lock.Charts)
	}
}

func TestPathNotCached(t *testing.T) {
	archive := []byte("not really an archive")
	l := Locked{Repo: "https://charts.example.test", Chart: "podinfo", Version: "6.5.0", Digest: Digest(archive)}
	c := &Cache{Dir: t.TempDir(), Lock: &Lock{Charts: []Locked{l}}}
	for _, tc := range []struct{ name, chart, version, want string }{
		{"not in the lock", "podinfo", "6.4.0", "chart podinfo 6.4.0 from https://charts.example.test is not in charts.lock"},
		{"in the lock, not in the cache", "podinfo", "6.5.0", "chart podinfo 6.5.0 from https://charts.example.test is not in the chart cache " + c.Dir},
	} {
		_, err := c.Path(l.Repo, tc.chart, tc.version)
		if !errors.Is(err, ErrNotCached) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: Path = %v, want ErrNotCached starting %q", tc.name, err, tc.want)
		}
	}
	if _, err := c.put(l, archive); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Path(l.Repo, l.Chart, l.Version); err != nil {
		t.Fatalf("Path after put: %v", err)
	}
	if _, err := c.Path(l.Repo+"/", l.Chart, l.Version); err != nil {
		t.Fatalf("Path with a trailing slash: %v", err)
	}
	oci := Locked{Repo: "oci://ghcr.io/team/charts", Chart: "podinfo", Version: "6.5.0", Digest: Digest(archive)}
	c.Lock.Charts = append(c.Lock.Charts, oci)
	if _, err := c.put(oci, archive); err != nil {
		t.Fatal(err)
	}
	// Argo CD's repoURL for an OCI repository has no scheme.
	if _, err := c.Path("ghcr.io/team/charts", "podinfo", "6.5.0"); err != nil {
		t.Fatalf("Path of Argo CD's schemeless OCI repoURL: %v", err)
	}
}

func TestLockRejectsBadDigest(t *testing.T) {
	_, err := ParseLock(LockFile, []byte("charts:\n- repo: https://x\n  chart: a\n  version: 1.0.0\n  digest: sha256:abc\n"))
	if err == nil || !strings.Contains(err.Error(), "charts[0] (chart a 1.0.0 from https://x)") {
		t.Fatalf("err = %v", err)
	}
	_, err = ParseLock(LockFile, []byte("charts:\n- repo: https://x\n  chart: a\n  versoin: 1.0.0\n"))
	if err == nil || !strings.Contains(err.Error(), "versoin") {
		t.Fatalf("err = %v", err)
	}
}

func TestSyncFromOCIRegistry(t *testing.T) {
	addr := testrepo.StartRegistry(t)
	archive := packageChart(t, "podinfo", "6.5.0")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Push(archive, addr+"/charts/podinfo:6.5.0"); err != nil {
		t.Fatal(err)
	}
	f, err := NewFetcher(true)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir(), Lock: &Lock{}}
	repoURL := "oci://" + addr + "/charts"
	res, err := c.Sync(f, []Locked{{Repo: repoURL, Chart: "podinfo", Version: "6.5.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Status != Recorded || res[0].Digest != Digest(archive) {
		t.Fatalf("sync = %+v, want the pushed archive recorded with %s", res, Digest(archive))
	}
	if _, err := c.Path(repoURL, "podinfo", "6.5.0"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Sync(f, []Locked{{Repo: repoURL, Chart: "podinfo", Version: "6.6.0"}})
	if err == nil || !strings.Contains(err.Error(), "chart podinfo 6.6.0: pull "+addr+"/charts/podinfo:6.6.0") {
		t.Fatalf("pull of a missing tag = %v", err)
	}
}
