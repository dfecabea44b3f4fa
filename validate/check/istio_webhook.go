package check

import (
	"meshops.dev/meshops/validate/index"
)

// IstioWebhook is istiod's half.
var IstioWebhook = &Check{
	Code:     "IS002",
	Name:     "istio-webhook",
	Severity: Error,
	Summary:  "every Istio resource passes istiod's validating webhook (ValidateWasmPlugin, ValidateVirtualService, ValidateGateway, ...), decoded strictly",
	Rationale: "istiod's admission webhook rejects what its Go validation refuses (bad hosts, ports, routes, urls). The check calls " +
		"the same functions from the pinned istio.io/istio module, decoding specs strictly so unknown fields and bad enum values fail too. " +
		"Its warnings are reported as part of the message.",
}

// The webhook's verdict on the object's typed form, which the index decodes
// once (strictly, as istiod's webhook decodes it) for this check and the
// typed checks alike; an object without one gets the decoding error.
func init() {
	IstioWebhook.Target = func(ix *index.Index, _ *Env) []Finding {
		return istioObjects(IstioWebhook, ix, func(o *index.Object) error {
			d, err := o.Istio()
			if err != nil {
				return err
			}
			_, err = d.Validate()
			return err
		})
	}
}
