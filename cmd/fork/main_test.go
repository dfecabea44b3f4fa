package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/testrepo"
)

func runFork(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestRefusesBadInput: one line on stderr, exit 2, nothing read or written.
func TestRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--repo", "not a url"},
		{"--repo", "https://user:pw@git.fork.test/a.git"},
		{"--registry", "registry.fork.test:5443/a/b:latest"},
		{"--registry", "registry.fork.test/a/b@sha256:" + strings.Repeat("0", 64)},
		{"--registry", "edge-headers"},
		{"--domain", "not_a_domain"},
		{},
		{"extra-argument"},
	} {
		code, stdout, stderr := runFork(append([]string{"--repo-root", "/nonexistent"}, args...)...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "make init: ") {
			t.Errorf("fork %q: exit %d, stdout %q, stderr %q; want 2 and one line", args, code, stdout, stderr)
		}
	}
}

// TestDryRunThenWrite: --dry-run prints the changes and writes nothing; the
// real run writes them; a third run has nothing to change.
func TestDryRunThenWrite(t *testing.T) {
	dir := testrepo.Copy(t)
	file := filepath.Join(dir, "overlays", "dev", "kustomization.yaml")
	before, _ := os.ReadFile(file)
	args := []string{"--repo-root", dir, "--registry", testrepo.Registry, "--domain", testrepo.Domain}
	code, stdout, stderr := runFork(append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "nothing written (--dry-run)") || !strings.Contains(stdout, "overlays/dev/kustomization.yaml:") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Fatal("--dry-run wrote a file")
	}
	if code, stdout, stderr = runFork(args...); code != 0 || !strings.Contains(stdout, "the repository validates") {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(file); !bytes.Contains(after, []byte("oci://"+testrepo.Registry)) {
		t.Errorf("dev overlay does not name the new registry:\n%s", after)
	}
	if code, stdout, _ = runFork(args...); code != 0 || !strings.Contains(stdout, "nothing to change") {
		t.Errorf("second run: exit %d\n%s", code, stdout)
	}
}

// TestRejectedExitsOne: a domain that makes every host too long for Istio.
func TestRejectedExitsOne(t *testing.T) {
	dir := testrepo.Copy(t)
	domain := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	code, _, stderr := runFork("--repo-root", dir, "--domain", domain)
	if code != 1 || !strings.Contains(stderr, "nothing was changed") || !strings.Contains(stderr, "IS002") {
		t.Errorf("exit %d, %s; want 1 with the IS002 findings", code, stderr)
	}
}
