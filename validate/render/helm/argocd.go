package helm

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// argoHelm is an Argo CD Application source's helm: options, with the
// field names of Argo CD's ApplicationSourceHelm (pkg/apis/application/
// v1alpha1/types.go).
type argoHelm struct {
	ValueFiles              []string         `json:"valueFiles,omitempty"`
	Parameters              []argoHelmParam  `json:"parameters,omitempty"`
	FileParameters          []argoHelmFParam `json:"fileParameters,omitempty"`
	ReleaseName             string           `json:"releaseName,omitempty"`
	Values                  string           `json:"values,omitempty"`
	ValuesObject            map[string]any   `json:"valuesObject,omitempty"`
	IgnoreMissingValueFiles bool             `json:"ignoreMissingValueFiles,omitempty"`
	SkipCrds                bool             `json:"skipCrds,omitempty"`
	SkipSchemaValidation    bool             `json:"skipSchemaValidation,omitempty"`
	Namespace               string           `json:"namespace,omitempty"`
	PassCredentials         bool             `json:"passCredentials,omitempty"`
	Version                 string           `json:"version,omitempty"`
	KubeVersion             string           `json:"kubeVersion,omitempty"`
	APIVersions             []string         `json:"apiVersions,omitempty"`
	SkipTests               bool             `json:"skipTests,omitempty"`
}

type argoHelmParam struct {
	Name        string `json:"name,omitempty"`
	Value       string `json:"value,omitempty"`
	ForceString bool   `json:"forceString,omitempty"`
}

type argoHelmFParam struct {
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
}

// FromApplication resolves an Argo CD Application's Helm source (an
// EntryPoint of Engine ArgoHelm) into the `helm template` its repo-server
// runs (reposerver/repository/repository.go, util/helm/cmd.go): release
// name helm.releaseName or the Application's name, namespace helm.namespace
// or the destination namespace, --include-crds unless skipCrds, values from
// valueFiles, then values (valuesObject when set), then parameters. A
// valueFiles entry $ref/path reads the file from the source whose ref: is
// ref, when that source's repoURL is this repository (isThisRepo says);
// data is the Application's file.
func FromApplication(t *render.Tree, e *render.EntryPoint, isThisRepo func(url string) bool, data []byte) (*Release, error) {
	src := e.Source
	spec, _ := e.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	destNS, _ := dest["namespace"].(string)
	r := &Release{Entry: e, VersionLine: e.Line, Name: e.Name, Namespace: destNS, ObjectNamespace: destNS, IncludeCRDs: true}
	r.RepoURL, _ = src["repoURL"].(string)
	r.Chart, _ = src["chart"].(string)
	r.Version, _ = src["targetRevision"].(string)
	if e.GeneratedBy == "" {
		if n := FieldLine(data, e.Line, append(fieldPath(e.SourceField), "targetRevision")...); n > 0 {
			r.VersionLine = n
		}
	}
	if e.Path != "" {
		r.LocalPath, r.RepoURL, r.Chart, r.Version = e.Path, "", "", ""
	}
	var h argoHelm
	if raw, ok := src["helm"]; ok {
		b, err := yaml.Marshal(raw)
		if err == nil {
			err = yaml.UnmarshalStrict(b, &h)
		}
		if err != nil {
			return nil, fmt.Errorf("%s.helm does not decode into Argo CD's ApplicationSourceHelm: %w", e.SourceField, err)
		}
	}
	if h.ReleaseName != "" {
		r.Name = h.ReleaseName
	}
	if h.Namespace != "" {
		r.Namespace = h.Namespace
	}
	r.IncludeCRDs = !h.SkipCrds
	r.SkipSchemaValidation = h.SkipSchemaValidation
	if h.KubeVersion != "" || len(h.APIVersions) > 0 {
		r.Ignored = append(r.Ignored, e.SourceField+".helm.kubeVersion/apiVersions")
	}
	vals := map[string]any{}
	for _, f := range h.ValueFiles {
		file, inRepo, err := valueFile(e, r, f, isThisRepo)
		if err != nil {
			return nil, err
		}
		if !inRepo {
			r.ChartValueFiles = append(r.ChartValueFiles, file)
			continue
		}
		b, err := t.ReadFile(file)
		if err != nil {
			if h.IgnoreMissingValueFiles {
				continue
			}
			return nil, fmt.Errorf("%s.helm.valueFiles: %s: no such file in the repository", e.SourceField, f)
		}
		v := map[string]any{}
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		vals = mergeValues(vals, v)
	}
	if h.ValuesObject != nil {
		vals = mergeValues(vals, h.ValuesObject)
	} else if h.Values != "" {
		v := map[string]any{}
		if err := yaml.Unmarshal([]byte(h.Values), &v); err != nil {
			return nil, fmt.Errorf("%s.helm.values: %w", e.SourceField, err)
		}
		vals = mergeValues(vals, v)
	}
	r.Values = vals
	for _, p := range h.Parameters {
		if p.ForceString {
			r.SetString = append(r.SetString, p.Name+"="+p.Value)
		} else {
			r.Set = append(r.Set, p.Name+"="+p.Value)
		}
	}
	for _, p := range h.FileParameters {
		file := path.Join(r.LocalPath, p.Path)
		b, err := t.ReadFile(file)
		if err != nil || r.LocalPath == "" {
			return nil, fmt.Errorf("%s.helm.fileParameters: %s: not a file of the chart's path in this repository", e.SourceField, p.Path)
		}
		if r.SetFile == nil {
			r.SetFile = map[string]string{}
		}
		r.SetFile[p.Name] = string(b)
	}
	return r, nil
}

// valueFile resolves one valueFiles entry: a repository file (inRepo) for
// a chart of this repository or a $ref of a source in this repository, else
// a file of the chart itself.
func valueFile(e *render.EntryPoint, r *Release, f string, isThisRepo func(string) bool) (string, bool, error) {
	if ref, rest, ok := strings.Cut(f, "/"); ok && strings.HasPrefix(ref, "$") {
		spec, _ := e.Object["spec"].(map[string]any)
		sources, _ := spec["sources"].([]any)
		for _, s := range sources {
			m, _ := s.(map[string]any)
			if m["ref"] == strings.TrimPrefix(ref, "$") {
				url, _ := m["repoURL"].(string)
				if !isThisRepo(url) {
					return "", false, fmt.Errorf("%s.helm.valueFiles: %s reads from %s, which is not this repository: the validator cannot read it", e.SourceField, f, url)
				}
				return render.RepoPath(rest), true, nil
			}
		}
		return "", false, fmt.Errorf("%s.helm.valueFiles: %s: no source of the Application has ref: %s", e.SourceField, f, strings.TrimPrefix(ref, "$"))
	}
	if r.LocalPath != "" {
		return path.Join(r.LocalPath, f), true, nil
	}
	return f, false, nil
}

// fieldPath splits "spec.sources[1]" into its keys.
func fieldPath(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ".") {
		name, idx, ok := strings.Cut(part, "[")
		out = append(out, name)
		if ok {
			out = append(out, strings.TrimSuffix(idx, "]"))
		}
	}
	return out
}

// mergeValues merges b over a as Helm merges successive -f files
// (pkg/cli/values' mergeMaps).
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bv, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
