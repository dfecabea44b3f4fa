package check

import (
	"encoding/json"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"

	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/index"
)

// GitOpsSchema validates Flux and Argo CD objects against their CRDs.
var GitOpsSchema = catalogued("GO002")

// gitopsGroups are the Flux and Argo CD API groups whose objects GO002 validates.
var gitopsGroups = map[string]bool{
	"kustomize.toolkit.fluxcd.io": true, "source.toolkit.fluxcd.io": true, "helm.toolkit.fluxcd.io": true, "argoproj.io": true,
}

func gitopsSchema(ix *index.Index, env *Env) []Finding {
	c := GitOpsSchema
	var out []Finding
	for _, o := range ix.Objects {
		if !gitopsGroups[o.Group] || o.Content == nil || env.GitOps == nil || !env.GitOps.ServesGroupKind(o.Group, o.Kind) {
			continue
		}
		if err := env.GitOps.Validate(o.Content); err != nil {
			out = append(out, c.findingAt(ix, o, messageField(err.Error()), "rejected by the %s CRD: %v", o.Kind, err))
			continue
		}
		// The CRD prunes what it does not know only where it preserves unknown
		// fields; Flux's own Go types catch the rest.
		var into any
		switch {
		case o.Kind == "Kustomization" && o.Group == "kustomize.toolkit.fluxcd.io" && o.Version == "v1":
			into = &kustomizev1.Kustomization{}
		case o.Kind == "GitRepository" && o.Group == "source.toolkit.fluxcd.io" && o.Version == "v1":
			into = &sourcev1.GitRepository{}
		default:
			continue
		}
		raw, _ := json.Marshal(o.Content)
		if err := yaml.UnmarshalStrict(raw, into); err != nil {
			out = append(out, c.finding(ix, o, "%v", err))
		}
	}
	return out
}

func init() {
	GitOpsSchema.Target = gitopsSchema
}
