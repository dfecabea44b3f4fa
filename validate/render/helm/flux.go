package helm

import (
	"context"
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/chartutil"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// Objects are the objects a HelmRelease's cluster holds, as the repository
// declares them: the rendered objects of the Flux target it was found in.
// Find returns the object of a kind, namespace and name, or nil.
type Objects interface {
	Find(kind, namespace, name string) map[string]any
}

// FromHelmRelease resolves a Flux HelmRelease, decoded into helm-controller's
// own type, into the release helm-controller v1.6 installs
// (internal/action/install.go): release name GetReleaseName shortened by
// release.ShortenName, namespace GetReleaseNamespace, the chart's CRDs
// unless install.crds is Skip (helm-controller applies them itself, with
// Create by default), hooks unless install.disableHooks, values from
// valuesFrom then values merged by fluxcd/pkg/chartutil's
// ChartValuesFromReferences. file and line locate the object; cluster is
// the cluster folder of the Flux Kustomization that applies it.
func FromHelmRelease(obj map[string]any, file string, line int, cluster string, objs Objects, data []byte) (*Release, error) {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var hr helmv2.HelmRelease
	if err := yaml.UnmarshalStrict(raw, &hr); err != nil {
		return nil, fmt.Errorf("%s:%d: HelmRelease does not decode into helm-controller's type: %w", file, line, err)
	}
	e := &render.EntryPoint{Engine: render.FluxHelm, File: file, Line: line, Kind: "HelmRelease", Namespace: hr.Namespace, Name: hr.Name,
		Cluster: cluster, Object: obj}
	r := &Release{Entry: e, VersionLine: line, Name: shortenReleaseName(hr.GetReleaseName()), Namespace: hr.GetReleaseNamespace()}
	r.ObjectNamespace = r.Namespace
	install := hr.GetInstall()
	r.IncludeCRDs = install.CRDs != helmv2.Skip
	r.DisableHooks = install.DisableHooks
	r.SkipSchemaValidation = install.DisableSchemaValidation
	r.PostRenderers, r.PostRenderStrategy = hr.Spec.PostRenderers, hr.Spec.PostRenderStrategy
	switch {
	case hr.Spec.Chart != nil:
		spec := hr.Spec.Chart.Spec
		r.Chart, r.Version = spec.Chart, spec.Version
		if r.Version == "" {
			r.Version = "*" // source-controller's default: the latest
		}
		if n := FieldLine(data, line, "spec", "chart", "spec", "version"); n > 0 {
			r.VersionLine = n
		}
		r.ChartValueFiles = spec.ValuesFiles
		ns := spec.SourceRef.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		switch spec.SourceRef.Kind {
		case sourcev1.HelmRepositoryKind:
			repo := objs.Find(sourcev1.HelmRepositoryKind, ns, spec.SourceRef.Name)
			if repo == nil {
				r.Problem = fmt.Sprintf("spec.chart.spec.sourceRef: HelmRepository %s/%s is not declared beside it, so Flux never fetches the chart", ns, spec.SourceRef.Name)
				break
			}
			var hrepo sourcev1.HelmRepository
			if err := decode(repo, &hrepo); err != nil {
				r.Problem = fmt.Sprintf("HelmRepository %s/%s does not decode: %v", ns, spec.SourceRef.Name, err)
				break
			}
			r.RepoURL = hrepo.Spec.URL
		case sourcev1.GitRepositoryKind:
			// The chart is a directory of a git repository's artifact: as
			// for Flux Kustomizations, the validator renders this one.
			r.LocalPath = render.RepoPath(spec.Chart)
		default:
			r.Problem = fmt.Sprintf("spec.chart.spec.sourceRef names a %s; the validator renders charts of a HelmRepository or of this git repository", spec.SourceRef.Kind)
		}
	case hr.Spec.ChartRef != nil && hr.Spec.ChartRef.Kind == sourcev1.OCIRepositoryKind:
		ns := hr.Spec.ChartRef.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		repo := objs.Find(sourcev1.OCIRepositoryKind, ns, hr.Spec.ChartRef.Name)
		var oci sourcev1.OCIRepository
		if repo == nil || decode(repo, &oci) != nil {
			r.Problem = fmt.Sprintf("spec.chartRef: OCIRepository %s/%s is not declared beside it", ns, hr.Spec.ChartRef.Name)
			break
		}
		u := strings.TrimSuffix(oci.Spec.URL, "/")
		r.RepoURL, r.Chart = u[:max(strings.LastIndex(u, "/"), 0)], u[strings.LastIndex(u, "/")+1:]
		if oci.Spec.Reference != nil {
			r.Version = oci.Spec.Reference.Tag
			if oci.Spec.Reference.SemVer != "" {
				r.Version = oci.Spec.Reference.SemVer
			}
		}
	default:
		r.Problem = "neither spec.chart nor a spec.chartRef to an OCIRepository: the validator cannot tell which chart it installs"
	}
	if r.Problem != "" {
		return r, nil
	}
	vals, err := fluxValues(&hr, objs)
	if err != nil {
		r.Problem = err.Error()
		return r, nil
	}
	r.Values = vals
	return r, nil
}

// fluxValues merges valuesFrom and values with fluxcd/pkg/chartutil's
// ChartValuesFromReferences, reading the ConfigMaps and Secrets from the
// objects the repository declares (a fake controller-runtime client holds
// them, with stringData folded into data as the API server does).
func fluxValues(hr *helmv2.HelmRelease, objs Objects) (map[string]any, error) {
	var kube []ctrlclient.Object
	for _, ref := range hr.Spec.ValuesFrom {
		obj := objs.Find(ref.Kind, hr.Namespace, ref.Name)
		if obj == nil {
			continue // chartutil reports it (or skips an optional one)
		}
		switch ref.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := decode(obj, &cm); err != nil {
				return nil, fmt.Errorf("valuesFrom ConfigMap %s: %w", ref.Name, err)
			}
			kube = append(kube, &cm)
		case "Secret":
			var s corev1.Secret
			// stringData decodes as it is; data is base64 in YAML.
			if err := decode(obj, &s); err != nil {
				return nil, fmt.Errorf("valuesFrom Secret %s: %w", ref.Name, err)
			}
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			for k, v := range s.StringData {
				s.Data[k] = []byte(v)
			}
			kube = append(kube, &s)
		}
	}
	// Without references chartutil merges the inline values alone and never
	// reads the client: the fake client (a scheme and its indexes) is built
	// only for a release that reads ConfigMaps or Secrets.
	var client ctrlclient.Client
	if len(hr.Spec.ValuesFrom) > 0 {
		scheme := runtime.NewScheme()
		_ = corev1.AddToScheme(scheme)
		client = fake.NewClientBuilder().WithScheme(scheme).WithObjects(dedupe(kube)...).Build()
	}
	vals, err := chartutil.ChartValuesFromReferences(context.Background(), logr.Discard(), client, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	if err != nil {
		return nil, err
	}
	return vals, nil
}

func dedupe(objs []ctrlclient.Object) []ctrlclient.Object {
	seen := map[string]bool{}
	var out []ctrlclient.Object
	for _, o := range objs {
		k := fmt.Sprintf("%T/%s/%s", o, o.GetNamespace(), o.GetName())
		if !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	return out
}

func decode(obj map[string]any, into any) error {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(raw, into)
}
