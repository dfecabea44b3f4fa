// Package charts is where Helm charts come from when there is no network:
// a cache directory of chart archives, each verified against the sha256
// digest recorded in the repository's lock file (LockFile), which make
// charts writes when it fetches the exact chart versions the repository pins.
package charts

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// LockFile is the lock file at the root of the repository: one entry per
// chart version the repository pins, with the sha256 digest of its archive,
// as go.sum records modules. make charts writes it; it is committed.
const LockFile = "charts.lock"

// Lock is the lock file's content.
type Lock struct {
	Charts []Locked `json:"charts"`
}

// Locked is one pinned chart version and its archive's digest.
type Locked struct {
	// Repo is the chart repository's URL as the repository writes it
	// (https://... or oci://...).
	Repo    string `json:"repo"`
	Chart   string `json:"chart"`
	Version string `json:"version"`
	// Digest is "sha256:" and the hex sha256 of the chart archive (.tgz).
	Digest string `json:"digest"`
}

func (l Locked) String() string {
	return fmt.Sprintf("chart %s %s from %s", l.Chart, l.Version, l.Repo)
}

// ReadLock reads a lock file; a missing file is an empty lock.
func ReadLock(file string) (*Lock, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return &Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chart lock: %w", err)
	}
	return ParseLock(file, data)
}

// ParseLock decodes a lock file's content strictly (a misspelt field is an error).
func ParseLock(file string, data []byte) (*Lock, error) {
	var l Lock
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return nil, fmt.Errorf("chart lock %s: %w", file, err)
	}
	for i, c := range l.Charts {
		if c.Repo == "" || c.Chart == "" || c.Version == "" || !validDigest(c.Digest) {
			return nil, fmt.Errorf("chart lock %s: charts[%d] (%s) needs repo, chart, version and a sha256:<64 hex> digest; run make charts", file, i, c)
		}
	}
	return &l, nil
}

// Find returns the lock entry of one chart version, if any. Repository URLs
// compare as RepoURL normalizes them.
func (l *Lock) Find(repoURL, chart, version string) (Locked, bool) {
	repoURL = RepoURL(repoURL)
	for _, c := range l.Charts {
		if RepoURL(c.Repo) == repoURL && c.Chart == chart && c.Version == version {
			return c, true
		}
	}
	return Locked{}, false
}

// RepoURL normalizes a chart repository URL as the lock records it: without
// a trailing slash, and with oci:// on a URL without a scheme (Argo CD names
// an OCI Helm repository as registry/path).
func RepoURL(u string) string {
	u = strings.TrimSuffix(u, "/")
	if u != "" && !strings.Contains(u, "://") {
		u = "oci://" + u
	}
	return u
}

const lockHeader = "# Written by make charts (cmd/charts): every Helm chart version the repository pins,\n" +
	"# with the sha256 of its archive. The validator renders a chart only from a cached\n" +
	"# archive with this digest. Commit it; do not edit it by hand.\n"

// Write writes the lock, entries sorted, atomically (a temporary file renamed).
func (l *Lock) Write(file string) error {
	sort.Slice(l.Charts, func(i, j int) bool {
		a, b := l.Charts[i], l.Charts[j]
		if a.Repo != b.Repo {
			return a.Repo < b.Repo
		}
		if a.Chart != b.Chart {
			return a.Chart < b.Chart
		}
		return a.Version < b.Version
	})
	if l.Charts == nil {
		l.Charts = []Locked{}
	}
	data, err := yaml.Marshal(l)
	if err != nil {
		return fmt.Errorf("chart lock %s: %w", file, err)
	}
	return writeAtomic(file, append([]byte(lockHeader), data...))
}

// writeAtomic writes data to file through a temporary file in the same
// directory, so that a reader never sees half a file.
func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), file)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", file, werr)
	}
	return nil
}
