package index

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayAPIGroup is the Kubernetes Gateway API's group.
const GatewayAPIGroup = gatewayv1.GroupName

// gatewayAPIForm is a Gateway API object decoded once, on first use.
type gatewayAPIForm struct {
	once    sync.Once
	decoded runtime.Object
	err     error
}

// gatewayAPIKinds are the kinds decoded into the sigs.k8s.io/gateway-api
// types (the v1.6.0 module istio.io/istio pins) and the constructors of
// their typed form. Every served version of a kind (v1, v1beta1) has the
// same schema; the API server converts between them without loss, so each
// decodes into its v1 type, as istiod reads Gateway, HTTPRoute, GRPCRoute
// and GatewayClass (pilot/pkg/config/kube/gateway/controller.go).
var gatewayAPIKinds = map[string]func() runtime.Object{
	"Gateway":        func() runtime.Object { return &gatewayv1.Gateway{} },
	"GatewayClass":   func() runtime.Object { return &gatewayv1.GatewayClass{} },
	"HTTPRoute":      func() runtime.Object { return &gatewayv1.HTTPRoute{} },
	"GRPCRoute":      func() runtime.Object { return &gatewayv1.GRPCRoute{} },
	"ReferenceGrant": func() runtime.Object { return &gatewayv1.ReferenceGrant{} },
}

// GatewayAPI returns o decoded into its sigs.k8s.io/gateway-api type
// (*v1.Gateway, *v1.HTTPRoute, ...), once per object. An object of
// another group or kind, or one whose fields do not fit the type (a string
// where the schema wants a number), has no typed form: the error says why,
// and GWA001 reports what the API server would refuse.
func (o *Object) GatewayAPI() (runtime.Object, error) {
	o.gatewayAPI.once.Do(func() {
		mk, ok := gatewayAPIKinds[o.Kind]
		switch {
		case o.Group != GatewayAPIGroup || !ok:
			o.gatewayAPI.err = fmt.Errorf("no Gateway API object: %s.%s", o.Kind, o.Group)
		case o.Content == nil:
			o.gatewayAPI.err = fmt.Errorf("%s: not a YAML mapping", o)
		default:
			obj := mk()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, obj); err != nil {
				o.gatewayAPI.err = fmt.Errorf("decode %s as %T: %w", o, obj, err)
				return
			}
			o.gatewayAPI.decoded = obj
		}
	})
	return o.gatewayAPI.decoded, o.gatewayAPI.err
}

// GatewayAPIObject returns o as the gateway-api type T (for example
// *v1.HTTPRoute), and whether o has that typed form.
func GatewayAPIObject[T runtime.Object](o *Object) (T, bool) {
	var zero T
	if o == nil {
		return zero, false
	}
	d, err := o.GatewayAPI()
	if err != nil {
		return zero, false
	}
	t, ok := d.(T)
	return t, ok
}

// KubeTyped is a Gateway API object with its typed form.
type KubeTyped[T runtime.Object] struct {
	*Object
	Value T
}

// gatewayAPIKind returns the gateway.networking.k8s.io objects of kind
// that have the typed form T, in render order.
func gatewayAPIKind[T runtime.Object](ix *Index, kind string) []KubeTyped[T] {
	var out []KubeTyped[T]
	for _, o := range ix.GroupKind(GatewayAPIGroup, kind) {
		if t, ok := GatewayAPIObject[T](o); ok {
			out = append(out, KubeTyped[T]{Object: o, Value: t})
		}
	}
	return out
}

// KubeGateways returns every gateway.networking.k8s.io Gateway (not an
// Istio networking Gateway) that decodes, in render order.
func (ix *Index) KubeGateways() []KubeTyped[*gatewayv1.Gateway] {
	return gatewayAPIKind[*gatewayv1.Gateway](ix, "Gateway")
}

// GatewayClasses returns every GatewayClass that decodes.
func (ix *Index) GatewayClasses() []KubeTyped[*gatewayv1.GatewayClass] {
	return gatewayAPIKind[*gatewayv1.GatewayClass](ix, "GatewayClass")
}

// HTTPRoutes returns every HTTPRoute that decodes.
func (ix *Index) HTTPRoutes() []KubeTyped[*gatewayv1.HTTPRoute] {
	return gatewayAPIKind[*gatewayv1.HTTPRoute](ix, "HTTPRoute")
}

// GRPCRoutes returns every GRPCRoute that decodes.
func (ix *Index) GRPCRoutes() []KubeTyped[*gatewayv1.GRPCRoute] {
	return gatewayAPIKind[*gatewayv1.GRPCRoute](ix, "GRPCRoute")
}

// ReferenceGrants returns every ReferenceGrant that decodes.
func (ix *Index) ReferenceGrants() []KubeTyped[*gatewayv1.ReferenceGrant] {
	return gatewayAPIKind[*gatewayv1.ReferenceGrant](ix, "ReferenceGrant")
}
