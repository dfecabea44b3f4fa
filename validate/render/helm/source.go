package helm

import (
	"errors"
	"fmt"
)

// ChartSource finds a chart that is neither Istio's (embedded) nor in this
// repository: a chart of a Helm repository or an OCI registry, fetched
// beforehand into a cache (`make charts`, validate/charts) since the
// validator never uses the network.
type ChartSource interface {
	// Path returns the packaged chart (.tgz) of chart at version from
	// repoURL, or an error wrapping ErrNotCached when the cache lacks it.
	Path(repoURL, chart, version string) (tgzPath string, err error)
}

// ErrNotCached is a chart the ChartSource does not hold.
var ErrNotCached = errors.New("chart is not cached")

// NoCharts is the ChartSource of a run without a chart cache: it holds no
// chart, so every such release is reported as not checked.
type NoCharts struct{}

// Path always fails with ErrNotCached.
func (NoCharts) Path(repoURL, chart, version string) (string, error) {
	return "", fmt.Errorf("chart %s %s from %s: %w", chart, version, repoURL, ErrNotCached)
}
