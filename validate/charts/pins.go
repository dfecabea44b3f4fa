package charts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// Pin is one chart version the repository installs, and where it says so.
type Pin struct {
	Repo, Chart, Version string
	// File and Line locate the HelmRelease or Application (for a generated
	// Application, its ApplicationSet).
	File string
	Line int
	// Release names it: "HelmRelease istio-system/istiod",
	// "Application argocd/istiod-dev".
	Release string
	// Problem says why the chart cannot be fetched as pinned ("" when it can):
	// a version range, a HelmRepository that is not in the repository, ...
	Problem string
}

func (p Pin) String() string {
	return fmt.Sprintf("%s:%d: %s: chart %s %s from %s", p.File, p.Line, p.Release, p.Chart, p.Version, p.Repo)
}

// istioCharts are the charts Istio publishes; at the pinned istio.io/istio
// module's release they ship inside that module (manifests/charts).
var istioCharts = map[string]bool{"base": true, "istiod": true, "gateway": true, "cni": true, "ztunnel": true}

// istioRepos are where Istio publishes its charts.
var istioRepos = map[string]bool{
	"https://istio-release.storage.googleapis.com/charts": true,
	"oci://gcr.io/istio-release/charts":                   true,
}

// IstioChart reports whether a pin is one of Istio's charts, never fetched:
// at the release minor ("1.31") the validator's istiod code speaks for, the
// pinned istio.io/istio module ships it (sameRelease); at another release,
// from Istio's own repositories, the validator reports the difference instead
// of rendering another Istio. A chart named base or gateway at another
// version from another repository is not Istio's.
func IstioChart(p Pin, istioMinor string) (istio, sameRelease bool) {
	if !istioCharts[p.Chart] {
		return false, false
	}
	v, err := semver.NewVersion(p.Version)
	if err == nil && fmt.Sprintf("%d.%d", v.Major(), v.Minor()) == istioMinor {
		return true, true
	}
	return istioRepos[strings.TrimSuffix(p.Repo, "/")], false
}

// Pins lists the chart versions the repository installs: every Flux
// HelmRelease's spec.chart.spec (chart, version, and the url of the
// HelmRepository its sourceRef names) and every Helm source (repoURL, chart,
// targetRevision) of an Argo CD Application under clusters/, ApplicationSets
// expanded. HelmReleases and HelmRepositories are read from the files of
// clusters/ and of every directory an entry point applies, as declared
// (before Kustomize: a patch that changes a chart's version is not seen).
func Pins(t *render.Tree) ([]Pin, error) {
	entries, err := render.EntryPoints(t)
	if err != nil {
		return nil, err
	}
	dirs := []string{"clusters"}
	for _, e := range entries {
		if e.Path != "" {
			dirs = append(dirs, e.Path)
		}
	}
	docs, err := manifests(t, dirs)
	if err != nil {
		return nil, err
	}
	repos := map[string]sourcev1.HelmRepository{} // namespace/name
	for _, d := range docs {
		if d.kind == "HelmRepository" && d.group == sourcev1.GroupVersion.Group {
			var hr sourcev1.HelmRepository
			if yaml.Unmarshal(d.data, &hr) == nil {
				repos[hr.Namespace+"/"+hr.Name] = hr
			}
		}
	}
	var out []Pin
	for _, d := range docs {
		if d.kind != "HelmRelease" || d.group != helmv2.GroupVersion.Group {
			continue
		}
		out = append(out, fluxPin(d, repos))
	}
	apps, err := render.ArgoApplications(t)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		out = append(out, argoPins(a)...)
	}
	return out, nil
}

func fluxPin(d doc, repos map[string]sourcev1.HelmRepository) Pin {
	var hr helmv2.HelmRelease
	p := Pin{File: d.file, Line: d.line}
	if err := yaml.Unmarshal(d.data, &hr); err != nil {
		p.Release = "HelmRelease"
		p.Problem = "does not decode into Flux's HelmRelease type: " + err.Error()
		return p
	}
	p.Release = "HelmRelease " + hr.Namespace + "/" + hr.Name
	if hr.Spec.Chart == nil {
		if hr.Spec.ChartRef != nil {
			p.Problem = fmt.Sprintf("takes its chart from %s %s (spec.chartRef), which make charts does not fetch", hr.Spec.ChartRef.Kind, hr.Spec.ChartRef.Name)
		} else {
			p.Problem = "has no spec.chart"
		}
		return p
	}
	spec := hr.Spec.Chart.Spec
	p.Chart, p.Version = spec.Chart, spec.Version
	if spec.SourceRef.Kind != sourcev1.HelmRepositoryKind {
		p.Problem = fmt.Sprintf("takes chart %s from a %s, not a HelmRepository; make charts fetches only from Helm repositories", spec.Chart, spec.SourceRef.Kind)
		return p
	}
	ns := spec.SourceRef.Namespace
	if ns == "" {
		ns = hr.Namespace // helm-controller: the sourceRef defaults to the HelmRelease's namespace
	}
	repo, ok := repos[ns+"/"+spec.SourceRef.Name]
	if !ok {
		p.Problem = fmt.Sprintf("names HelmRepository %s/%s, which the repository does not declare", ns, spec.SourceRef.Name)
		return p
	}
	p.Repo = RepoURL(repo.Spec.URL)
	p.Problem = exactVersion(p.Version, "spec.chart.spec.version")
	return p
}

func argoPins(a render.ArgoApplication) []Pin {
	meta, _ := a.Object["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	spec, _ := a.Object["spec"].(map[string]any)
	var out []Pin
	add := func(src map[string]any) {
		chart, _ := src["chart"].(string)
		if chart == "" {
			return
		}
		repoURL, _ := src["repoURL"].(string)
		version, _ := src["targetRevision"].(string)
		p := Pin{Repo: repoURL, Chart: chart, Version: version, File: a.File, Line: a.Line, Release: "Application " + ns + "/" + name}
		if a.GeneratedBy != "" {
			p.Release += " (generated by " + a.GeneratedBy + ")"
		}
		// Argo CD names an OCI Helm repository without a scheme
		// (registry/path, with enableOCI on its repository secret) or
		// with oci://; make charts needs the scheme to know.
		p.Repo = RepoURL(repoURL)
		p.Problem = exactVersion(version, "targetRevision")
		out = append(out, p)
	}
	if src, ok := spec["source"].(map[string]any); ok {
		add(src)
	}
	sources, _ := spec["sources"].([]any)
	for _, s := range sources {
		if m, ok := s.(map[string]any); ok {
			add(m)
		}
	}
	return out
}

// exactVersion is "" for an exact semantic version, else why the pin cannot
// be cached: a range resolves to whatever the repository serves today.
func exactVersion(v, field string) string {
	if v == "" {
		return field + " is empty: the newest version would be installed; pin an exact version"
	}
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v")); err != nil {
		return fmt.Sprintf("%s %q is not an exact version: pin one (1.2.3) so the cache and the cluster install the same chart", field, v)
	}
	return ""
}

// doc is one YAML document of a manifest file.
type doc struct {
	file, group, kind string
	line              int
	data              []byte
}

// manifests reads every YAML document of the files under dirs, each file once.
func manifests(t *render.Tree, dirs []string) ([]doc, error) {
	seen := map[string]bool{}
	var files []string
	var walk func(dir string) error
	walk = func(dir string) error {
		if seen[dir] || !t.IsDir(dir) {
			return nil
		}
		seen[dir] = true
		names, err := t.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for _, n := range names {
			p := path.Join(dir, n)
			switch {
			case t.IsDir(p):
				if err := walk(p); err != nil {
					return err
				}
			case (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) && !seen[p]:
				seen[p] = true
				files = append(files, p)
			}
		}
		return nil
	}
	for _, d := range dirs {
		if err := walk(d); err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	var out []doc
	for _, f := range files {
		data, err := t.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		dec := yamlv3.NewDecoder(bytes.NewReader(data))
		for {
			var n yamlv3.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				break // the render of that directory reports it with its line
			}
			if len(n.Content) == 0 || n.Content[0].Kind != yamlv3.MappingNode {
				continue
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
			}
			if n.Decode(&head) != nil {
				continue
			}
			group, _, _ := strings.Cut(head.APIVersion, "/")
			if head.Kind != "HelmRelease" && head.Kind != "HelmRepository" {
				continue
			}
			var obj any
			if n.Decode(&obj) != nil {
				continue
			}
			js, err := yaml.Marshal(obj)
			if err != nil {
				continue
			}
			out = append(out, doc{file: f, line: n.Content[0].Line, group: group, kind: head.Kind, data: js})
		}
	}
	return out, nil
}
