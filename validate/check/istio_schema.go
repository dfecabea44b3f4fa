package check

import (
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
)

// IstioSchema is the API server's half of Istio's admission rules.
var IstioSchema = &Check{
	Code:     "IS001",
	Name:     "istio-crd-schema",
	Severity: Error,
	Summary:  "every Istio resource passes the validation of Istio's CRDs: OpenAPI schema, enums, CEL rules, no unknown fields",
	Rationale: "The API server validates Istio resources against the CRDs istio.io/api ships before istiod's webhook sees them; " +
		"Argo CD or Flux then fails the whole sync. istioctl validate runs only the webhook half and accepts, for example, " +
		"a WasmPlugin with pluginName: \"\" that the API server rejects. The CRDs are embedded from the pinned istio.io/api.",
}

func init() {
	IstioSchema.Target = func(ix *index.Index, env *Env) []Finding {
		return istioObjects(IstioSchema, ix, func(o *index.Object) error { return env.Istio.Schema(o.Content) })
	}
}

// istioObjects runs validate on every Istio object of the target.
func istioObjects(c *Check, ix *index.Index, validate func(*index.Object) error) []Finding {
	var out []Finding
	for _, o := range ix.Objects {
		if !istio.IsIstio(o.Group) || o.Content == nil {
			continue
		}
		if err := validate(o); err != nil {
			out = append(out, c.findingIn(ix, o, ix.FieldSource(o, messageField(err.Error())...), "rejected at admission: %v; fix the field it names", err))
		}
	}
	return out
}
