package check

import (
	"meshops.dev/meshops/validate/index"
)

// IstioWebhook is istiod's half.
var IstioWebhook = catalogued("IS002")

func init() {
	IstioWebhook.Target = func(ix *index.Index, env *Env) []Finding {
		return istioObjects(IstioWebhook, ix, func(o *index.Object) error {
			_, err := env.Istio.Webhook(o.Content)
			return err
		})
	}
}
