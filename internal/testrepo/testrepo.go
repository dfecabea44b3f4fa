// Package testrepo gives tests a fork of this repository: a copy of its
// manifest folders in a temporary directory, with the repository URL, plugin
// registry (with a port, under another repository name) and DNS domain
// replaced by make init's own code. Tests that run on it derive every value
// from it, so they pass on any fork of the repository, whatever its values.
package testrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meshops.dev/meshops/internal/fork"
)

// The values a test fork gets: none of them is used by the repository as
// shipped or by any plausible fork.
const (
	Repo     = "ssh://git@git.fork.test/platform/edge.git"
	Registry = "registry.fork.test:5443/platform/edge-headers"
	Domain   = "apps.fork.test"
)

// Root returns the repository's root: the nearest directory above the
// test's working directory that holds go.mod and overlays/.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isDir(filepath.Join(dir, "overlays")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testrepo: no directory above the test holds go.mod and overlays/")
		}
		dir = parent
	}
}

func isFile(p string) bool { i, err := os.Stat(p); return err == nil && i.Mode().IsRegular() }
func isDir(p string) bool  { i, err := os.Stat(p); return err == nil && i.IsDir() }

// manifestDir reports whether a top-level folder holds manifests: not a dot
// folder, not build output or fixtures, and no Go code anywhere below it.
func manifestDir(root, name string) bool {
	switch name {
	case "bin", "testdata", "node_modules", "vendor", "scripts", "tools":
		return false
	}
	if strings.HasPrefix(name, ".") {
		return false
	}
	hasGo := false
	_ = filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			hasGo = true
			return filepath.SkipAll
		}
		return err
	})
	return !hasGo
}

// Copy copies the repository's manifest folders (base/, overlays/,
// clusters/ and any other top-level folder without Go code; never bin/,
// .cache/ or testdata/) and its top-level .sourceignore, if any, into a new
// temporary directory and returns it.
func Copy(t testing.TB) string {
	t.Helper()
	root := Root(t)
	dst := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src := filepath.Join(root, e.Name())
		switch {
		case e.IsDir() && manifestDir(root, e.Name()):
			if err := copyTree(src, filepath.Join(dst, e.Name())); err != nil {
				t.Fatalf("testrepo: copy %s: %v", e.Name(), err)
			}
		case e.Name() == ".sourceignore":
			if err := copyFile(src, filepath.Join(dst, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == "testdata" || (p != src && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// Fork returns a Copy forked with make init's code to Repo, Registry and
// Domain. It fails the test if the fork does not validate.
func Fork(t testing.TB) string {
	t.Helper()
	return ForkTo(t, Registry)
}

// ForkTo is Fork with the plugin's image repository registry
// (host[:port]/path/name): a registry a test runs (StartRegistry).
func ForkTo(t testing.TB, registry string) string {
	t.Helper()
	dir := Copy(t)
	v, err := fork.Parse(Repo, registry, Domain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fork.Apply(dir, v); err != nil {
		t.Fatalf("testrepo: fork the repository: %v", err)
	}
	return dir
}

// Git runs git in dir and returns its output; it fails the test on error.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Commit makes dir a git repository (if it is not one) on branch main and
// commits everything in it with message.
func Commit(t testing.TB, dir, message string) {
	t.Helper()
	if !isDir(filepath.Join(dir, ".git")) {
		Git(t, dir, "init", "-q", "-b", "main")
	}
	Git(t, dir, "add", "-A")
	Git(t, dir, "-c", "user.name=test", "-c", "user.email=test@fork.test", "commit", "-q", "--allow-empty", "-m", message)
}

// StartRegistry runs Debian's docker-registry (distribution 2.8) on a free
// loopback port, with its storage in a temporary directory, and stops it
// when the test ends. It returns host:port. Without the program the test
// skips, saying what it needs.
func StartRegistry(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed (apt-get install docker-registry; .ci/run installs it): skipping the registry test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ClosedPort returns a loopback host:port nothing listens on: a registry
// that cannot be reached.
func ClosedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
