package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"meshops.dev/meshops/validate/render/helm"
)

// ErrNotCached is the error Path wraps when a chart version is not in the
// cache (or not in the lock file): the validator reports the release as not
// checked and asks for make charts.
// It is the Helm engine's own sentinel (validate/render/helm), which turns
// it into HLM001.
var ErrNotCached = helm.ErrNotCached

// CacheEnv overrides the cache directory.
const CacheEnv = "MESHOPS_CHART_CACHE"

// DefaultDir is the cache directory: $MESHOPS_CHART_CACHE, else
// meshops/charts in the user's cache directory ($XDG_CACHE_HOME, else
// ~/.cache on Linux, ~/Library/Caches on macOS).
func DefaultDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("chart cache: no user cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(base, "meshops", "charts"), nil
}

// Cache is the chart cache: archives under Dir, trusted only when their
// sha256 equals the lock's digest.
type Cache struct {
	Dir  string
	Lock *Lock
}

// Open opens the cache in dir for the repository whose lock file is lockFile
// (a missing lock file means nothing is cached).
func Open(dir, lockFile string) (*Cache, error) {
	l, err := ReadLock(lockFile)
	if err != nil {
		return nil, err
	}
	return &Cache{Dir: dir, Lock: l}, nil
}

// DigestError is a cached archive whose content is not the one the lock
// records: tampered with, or a repository that republished the version.
type DigestError struct {
	Chart     Locked
	File      string
	Got, Want string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s: archive %s has digest %s, but %s records %s; delete the file and run make charts, "+
		"and if the repository now serves other content for this version, check why before accepting it",
		e.Chart, e.File, e.Got, LockFile, e.Want)
}

// archive is where a locked chart's archive lives: the digest names the
// folder, so two repositories' charts of one name never collide.
func (c *Cache) archive(l Locked) string {
	return filepath.Join(c.Dir, strings.TrimPrefix(l.Digest, "sha256:"), l.Chart+"-"+l.Version+".tgz")
}

// Path returns the cached archive of one chart version, verified against the
// lock's digest. An error wraps ErrNotCached when the lock has no entry for
// it or the cache holds no archive; a *DigestError when the archive's
// content differs.
func (c *Cache) Path(repoURL, chart, version string) (string, error) {
	l, ok := c.Lock.Find(repoURL, chart, version)
	if !ok {
		return "", fmt.Errorf("chart %s %s from %s is not in %s: %w", chart, version, repoURL, LockFile, ErrNotCached)
	}
	file := c.archive(l)
	got, err := digestFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s is not in the chart cache %s: %w", l, c.Dir, ErrNotCached)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", l, err)
	}
	if got != l.Digest {
		return "", &DigestError{Chart: l, File: file, Got: got, Want: l.Digest}
	}
	return file, nil
}

// put stores an archive fetched for l (whose Digest is set) atomically.
func (c *Cache) put(l Locked, data []byte) (string, error) {
	file := c.archive(l)
	if err := writeAtomic(file, data); err != nil {
		return "", fmt.Errorf("chart cache: %w", err)
	}
	return file, nil
}

// Digest is "sha256:<hex>" of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func digestFile(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}
