package charts

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Fetcher downloads chart archives with Helm's own SDK: a chart repository's
// index.yaml and the archive it names through Helm's getters (https), and
// the chart layer through Helm's OCI registry client (oci://).
type Fetcher struct {
	// Getters are Helm's URL getters (getter.Getters()).
	Getters getter.Providers
	// Registry is Helm's OCI registry client.
	Registry *registry.Client
}

// NewFetcher returns a fetcher with Helm's default getters and a registry
// client that reads the Docker/Helm registry credentials as helm does.
// plainHTTP talks HTTP, not HTTPS, to OCI registries (a registry on
// localhost in tests).
func NewFetcher(plainHTTP bool) (*Fetcher, error) {
	opts := []registry.ClientOption{}
	if plainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	rc, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("helm registry client: %w", err)
	}
	return &Fetcher{Getters: getter.Getters(), Registry: rc}, nil
}

// VersionError is a pinned chart version its repository does not serve.
type VersionError struct {
	Repo, Chart, Version string
	// Available are the versions the repository's index lists (none when
	// the chart itself is missing).
	Available []string
}

func (e *VersionError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("chart %s is not in the repository %s", e.Chart, e.Repo)
	}
	return fmt.Sprintf("chart %s version %s is not in the repository %s (it serves %s); pin one of those versions",
		e.Chart, e.Version, e.Repo, strings.Join(e.Available, ", "))
}

// Fetch downloads exactly one chart version's archive.
func (f *Fetcher) Fetch(repoURL, chart, version string) ([]byte, error) {
	u, err := url.Parse(repoURL)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: repository URL %q: %w", chart, version, repoURL, err)
	}
	if u.Scheme == registry.OCIScheme {
		return f.fetchOCI(repoURL, chart, version)
	}
	return f.fetchIndexed(repoURL, chart, version)
}

// fetchOCI pulls <repo>/<chart>:<version>, as Flux's source-controller
// builds the reference of a chart in an OCI HelmRepository.
func (f *Fetcher) fetchOCI(repoURL, chart, version string) ([]byte, error) {
	ref := strings.TrimSuffix(strings.TrimPrefix(repoURL, registry.OCIScheme+"://"), "/") + "/" + chart + ":" + version
	res, err := f.Registry.Pull(ref, registry.PullOptWithChart(true))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: pull %s: %w", chart, version, ref, err)
	}
	if res.Chart == nil || len(res.Chart.Data) == 0 {
		return nil, fmt.Errorf("chart %s %s: %s has no chart layer", chart, version, ref)
	}
	if res.Chart.Meta != nil && (res.Chart.Meta.Name != chart || res.Chart.Meta.Version != version) {
		return nil, fmt.Errorf("chart %s %s: %s holds chart %s %s", chart, version, ref, res.Chart.Meta.Name, res.Chart.Meta.Version)
	}
	return res.Chart.Data, nil
}

// fetchIndexed reads the repository's index.yaml and downloads the archive
// its entry for exactly this version names. Helm's IndexFile.Get falls back
// to the closest matching version when the exact one is missing; a pin must
// not, so only an exact match counts.
func (f *Fetcher) fetchIndexed(repoURL, chart, version string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "meshops-charts-index-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r, err := repo.NewChartRepository(&repo.Entry{Name: "pinned", URL: repoURL}, f.Getters)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", chart, version, err)
	}
	r.CachePath = tmp // not helm's own cache: this command leaves nothing behind
	indexFile, err := r.DownloadIndexFile()
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %s is not a chart repository or cannot be reached: %w", chart, version, repoURL, err)
	}
	idx, err := repo.LoadIndexFile(indexFile)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: index of %s: %w", chart, version, repoURL, err)
	}
	var found *repo.ChartVersion
	var available []string
	for _, cv := range idx.Entries[chart] {
		available = append(available, cv.Version)
		if cv.Version == version {
			found = cv
		}
	}
	if found == nil {
		sort.Strings(available)
		return nil, &VersionError{Repo: repoURL, Chart: chart, Version: version, Available: available}
	}
	if len(found.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s: the index of %s lists no URL for it", chart, version, repoURL)
	}
	archiveURL, err := repo.ResolveReferenceURL(repoURL, found.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", chart, version, err)
	}
	au, err := url.Parse(archiveURL)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: archive URL %q: %w", chart, version, archiveURL, err)
	}
	g, err := f.Getters.ByScheme(au.Scheme)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", chart, version, err)
	}
	buf, err := g.Get(archiveURL, getter.WithURL(repoURL))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: download %s: %w", chart, version, archiveURL, err)
	}
	// The index records the archive's sha256 (helm repo index does); a
	// download that differs from it is not the chart the index describes.
	if found.Digest != "" && "sha256:"+found.Digest != Digest(buf.Bytes()) {
		return nil, fmt.Errorf("chart %s %s: %s has digest %s, but the index of %s records sha256:%s",
			chart, version, archiveURL, Digest(buf.Bytes()), repoURL, found.Digest)
	}
	return buf.Bytes(), nil
}

// Status is what Sync did with one pinned chart version.
type Status string

const (
	Verified Status = "verified" // cached, digest equal to the lock's
	Fetched  Status = "fetched"  // downloaded, digest equal to the lock's
	Recorded Status = "recorded" // downloaded, digest newly recorded in the lock
)

// Result is Sync's outcome for one chart version.
type Result struct {
	Locked
	Status Status
	File   string
}

// Sync makes the cache hold every wanted chart version and the lock record
// exactly those (entries no longer wanted are dropped, as go mod tidy drops
// go.sum lines). A cached archive is verified and never re-fetched; a fetched
// one must match the lock's digest when the lock has one. A mismatch is an
// error naming the chart, and the lock is then left as it was.
func (c *Cache) Sync(f *Fetcher, wanted []Locked) ([]Result, error) {
	var out []Result
	var errs []error
	next := &Lock{}
	seen := map[Locked]bool{}
	for _, w := range wanted {
		key := Locked{Repo: w.Repo, Chart: w.Chart, Version: w.Version}
		if seen[key] {
			continue
		}
		seen[key] = true
		if l, ok := c.Lock.Find(w.Repo, w.Chart, w.Version); ok {
			file, err := c.Path(w.Repo, w.Chart, w.Version)
			if err == nil {
				out = append(out, Result{Locked: l, Status: Verified, File: file})
				next.Charts = append(next.Charts, l)
				continue
			}
			if !errors.Is(err, ErrNotCached) {
				errs = append(errs, err)
				next.Charts = append(next.Charts, l)
				continue
			}
		}
		data, err := f.Fetch(w.Repo, w.Chart, w.Version)
		if err != nil {
			errs = append(errs, err)
			if l, ok := c.Lock.Find(w.Repo, w.Chart, w.Version); ok {
				next.Charts = append(next.Charts, l)
			}
			continue
		}
		got := key
		got.Digest = Digest(data)
		status := Recorded
		if l, ok := c.Lock.Find(w.Repo, w.Chart, w.Version); ok {
			if l.Digest != got.Digest {
				errs = append(errs, fmt.Errorf("%s: the repository serves an archive with digest %s, but %s records %s: "+
					"the version was republished or the download altered; check it before deleting the entry from %s and running make charts again",
					l, got.Digest, LockFile, l.Digest, LockFile))
				next.Charts = append(next.Charts, l)
				continue
			}
			status = Fetched
		}
		file, err := c.put(got, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Result{Locked: got, Status: status, File: file})
		next.Charts = append(next.Charts, got)
	}
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	c.Lock = next
	return out, nil
}
