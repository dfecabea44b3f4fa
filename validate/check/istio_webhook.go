package check

import (
	"meshops.dev/meshops/validate/index"
)

// IstioWebhook is istiod's half.
var IstioWebhook = catalogued("IS002")

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
