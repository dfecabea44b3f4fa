package helm

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

//go:generate go run gen.go

// IstioChartsDir is where gen.go copies Istio's charts, beside this file.
const IstioChartsDir = "istiocharts"

// IstioChartDirs maps each chart of Istio's chart repository that the pinned
// istio.io/istio module ships to its folder under manifests/charts. The
// folder istio-control/istio-discovery holds the chart named istiod, and
// istio-cni the chart named cni (their Chart.yaml name:).
var IstioChartDirs = map[string]string{
	"base":    "base",
	"istiod":  "istio-control/istio-discovery",
	"gateway": "gateway",
	"cni":     "istio-cni",
	"ztunnel": "ztunnel",
}

// IstioRepositories are where Istio publishes those charts: its Helm
// repository and its OCI registry (istio.io's installation guide).
var IstioRepositories = []string{
	"https://istio-release.storage.googleapis.com/charts",
	"oci://gcr.io/istio-release/charts",
}

// istioCharts are the charts, embedded: the validator finds them in its
// own binary, with no module cache or network at run time. `go generate`
// refreshes them from the pinned module, and TestIstioChartsMatchModule
// fails when they drift from it.
//
//go:embed all:istiocharts
var istioCharts embed.FS

// IstioVersion is the Istio release the pinned module speaks for, from its
// VERSION file ("1.31"): the release whose istiod code the validator runs.
func IstioVersion() string {
	data, err := istioCharts.ReadFile(IstioChartsDir + "/VERSION")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// IsIstioChart reports whether repoURL and chart name one of Istio's charts
// that the module ships. A repoURL may also name the chart itself (an OCI
// reference oci://gcr.io/istio-release/charts/base).
func IsIstioChart(repoURL, name string) bool {
	if _, ok := IstioChartDirs[name]; !ok {
		return false
	}
	u := strings.TrimSuffix(strings.TrimSpace(repoURL), "/")
	for _, r := range IstioRepositories {
		if u == r || u == r+"/"+name {
			return true
		}
	}
	return false
}

// IstioVersionMatches reports whether a pinned chart version (an exact
// version or a semver range, as Flux's chart.spec.version and Argo CD's
// targetRevision accept) resolves only to a patch release of IstioVersion:
// an exact 1.31.z, or a range whose every admitted version is 1.31.z.
func IstioVersionMatches(version string) bool {
	mm := strings.SplitN(IstioVersion(), ".", 3)
	if len(mm) < 2 {
		return false
	}
	minor := mm[0] + "." + mm[1]
	if v, err := semver.NewVersion(version); err == nil {
		return fmt.Sprintf("%d.%d", v.Major(), v.Minor()) == minor
	}
	c, err := semver.NewConstraint(version)
	if err != nil {
		return false
	}
	lo, _ := semver.NewVersion(minor + ".0")
	below := semver.New(lo.Major(), lo.Minor()-1, 999999, "", "")
	if lo.Minor() == 0 {
		below = semver.New(lo.Major()-1, 999999, 999999, "", "")
	}
	above := semver.New(lo.Major(), lo.Minor()+1, 0, "", "")
	return c.Check(lo) && !c.Check(below) && !c.Check(above)
}

// loadIstioChart loads one of the embedded charts, its Chart.yaml version
// (the placeholder 1.0.0 that Istio's release tooling replaces) stamped
// with version, as the published chart carries it.
func loadIstioChart(name, version string) (*chart.Chart, error) {
	root := path.Join(IstioChartsDir, name)
	var files []*archive.BufferedFile
	err := fs.WalkDir(istioCharts, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := istioCharts.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: strings.TrimPrefix(p, root+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("istio chart %s: %w", name, err)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("istio chart %s: %w", name, err)
	}
	c.Metadata.Version = version
	c.Metadata.AppVersion = version
	stampImages(c.Values, version)
	return c, nil
}

// The module's charts point their images at Istio's test registry
// (hub: registry.istio.io/testing, tag: latest); Istio's release tooling
// replaces both in every chart's values.yaml when it publishes a release.
const (
	testingHub  = "registry.istio.io/testing"
	releasedHub = "docker.io/istio"
)

// stampImages sets the released hub and tag where the module's values
// carry the test ones, at every depth (Istio nests its defaults under
// _internal_defaults_do_not_set).
func stampImages(values map[string]any, version string) {
	for k, v := range values {
		switch x := v.(type) {
		case map[string]any:
			stampImages(x, version)
		case string:
			if k == "hub" && x == testingHub {
				values[k] = releasedHub
			}
			if k == "tag" && x == "latest" {
				values[k] = version
			}
		}
	}
}

// countEmbedded counts the embedded files below dir.
func countEmbedded(dir string) (int, error) {
	n := 0
	err := fs.WalkDir(istioCharts, dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	return n, err
}
