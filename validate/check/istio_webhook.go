package check

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-multierror"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/msg"
	"istio.io/istio/pkg/config/validation"

	"meshops.dev/meshops/validate/index"
)

// IstioWebhook is istiod's half.
var IstioWebhook = catalogued("IS002")

// The webhook's verdict on the object's typed form, which the index decodes
// once (strictly, as istiod's webhook decodes it) for this check and the
// typed checks alike; an object without one gets the decoding error.
// istiod's webhook admits an object it only warns about and returns the
// warnings to the client (kubectl prints them); they are findings too, with
// the codes istioctl analyze gives them (its schema.ValidationAnalyzer,
// morePreciseMessage): IST0130 a route rule no request reaches, IST0131 a
// match an earlier one shadows, IST0133 any other warning.
func init() {
	IstioWebhook.Target = func(ix *index.Index, _ *Env) []Finding {
		var warned []Finding
		out := istioObjects(IstioWebhook, ix, func(o *index.Object) error {
			d, err := o.Istio()
			if err != nil {
				return err
			}
			warning, err := d.Validate()
			for _, w := range warnings(warning) {
				m := webhookWarning(w)
				text := fmt.Sprintf(m.Type.Template(), m.Parameters...)
				f := IstioWebhook.findingAt(ix, o, istioField(o.Kind, w.Error()), "istiod's webhook warns: %s", text)
				f.Code, f.Severity = m.Type.Code(), severityOf(m.Type.Level().String())
				warned = append(warned, f)
			}
			return err
		})
		return append(out, warned...)
	}
}

// warnings lists the warnings a validation returned, one per problem.
func warnings(w error) []error {
	if w == nil {
		return nil
	}
	var me *multierror.Error
	if errors.As(w, &me) {
		return me.WrappedErrors()
	}
	return []error{w}
}

// webhookWarning is the message istioctl analyze makes of a webhook warning.
func webhookWarning(w error) diag.Message {
	var aae *validation.AnalysisAwareError
	if errors.As(w, &aae) {
		switch aae.Type {
		case "VirtualServiceUnreachableRule":
			if len(aae.Parameters) == 2 {
				return msg.NewVirtualServiceUnreachableRule(nil, fmt.Sprint(aae.Parameters[0]), fmt.Sprint(aae.Parameters[1]))
			}
		case "VirtualServiceIneffectiveMatch":
			if len(aae.Parameters) == 3 {
				return msg.NewVirtualServiceIneffectiveMatch(nil, fmt.Sprint(aae.Parameters[0]), fmt.Sprint(aae.Parameters[1]), fmt.Sprint(aae.Parameters[2]))
			}
		}
	}
	return msg.NewSchemaWarning(nil, w)
}
