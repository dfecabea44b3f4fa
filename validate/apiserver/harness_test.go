package apiserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"meshops.dev/meshops/validate/gitops"
	"meshops.dev/meshops/validate/istio"
)

// repoRoot is the repository's root, where make kube-tools puts the binaries
// under bin/.
const repoRoot = "../.."

// binaries finds etcd and kube-apiserver in $KUBE_TOOLS_BIN, else in the
// repository's bin/. Without them the test skips, naming what is missing;
// with CI=true it fails instead: CI must run the oracle.
func binaries(t testing.TB) Binaries {
	t.Helper()
	dir := os.Getenv("KUBE_TOOLS_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot, "bin")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := FindBinaries(abs)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, so the API server oracle must run: %v", err)
		}
		t.Skipf("the API server oracle needs a real etcd and kube-apiserver: %v", err)
	}
	return bins
}

// startServer starts a server for the test and stops it in t.Cleanup, even
// when the test fails.
func startServer(t testing.TB) *Server {
	t.Helper()
	bins := binaries(t)
	begin := time.Now()
	s, err := Start(context.Background(), bins, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	t.Logf("etcd and kube-apiserver ready in %s", time.Since(begin).Round(time.Millisecond))
	return s
}

// installCRDs installs every CRD the validator embeds: Istio's, Flux's and
// Argo CD's.
func installCRDs(t testing.TB, c *Client) {
	t.Helper()
	manifests := [][]byte{istio.CRDs}
	for _, s := range gitops.Sources {
		data, err := gitops.Embedded(s)
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, data)
	}
	begin := time.Now()
	if err := c.InstallCRDs(context.Background(), manifests...); err != nil {
		t.Fatal(err)
	}
	t.Logf("CRDs established in %s", time.Since(begin).Round(time.Millisecond))
}
