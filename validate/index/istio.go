package index

import (
	"sync"

	"google.golang.org/protobuf/proto"
	extensions "istio.io/api/extensions/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"

	"meshops.dev/meshops/validate/istio"
)

// istioForm is an Istio object decoded once, on first use, by whichever
// check asks first; the indexes that share the object (Share, Narrow) share
// it too.
type istioForm struct {
	once    sync.Once
	decoded *istio.Decoded
	err     error
}

// Istio returns o decoded as istiod's webhook decodes it (istio.Decode:
// schema by group and kind, spec decoded strictly), once per object. An
// object of another group, or one whose spec does not decode strictly, has
// no typed form: Istio returns the decoding error, which IS001/IS002 report.
func (o *Object) Istio() (*istio.Decoded, error) {
	o.istio.once.Do(func() {
		switch {
		case !istio.IsIstio(o.Group):
			o.istio.err = errNotIstio{o.Group, o.Kind}
		case o.Content == nil:
			o.istio.err = errNotIstio{o.Group, o.Kind}
		default:
			o.istio.decoded, o.istio.err = istio.Decode(o.Content)
		}
	})
	return o.istio.decoded, o.istio.err
}

type errNotIstio struct{ group, kind string }

func (e errNotIstio) Error() string {
	return "no Istio object: " + e.kind + "." + e.group
}

// IstioSpec returns o's spec as the istio.io/api struct T (for example
// *v1alpha3.VirtualService), and whether o has that typed form: false for
// an object of another kind or one that does not decode strictly, which
// the typed checks skip and IS001/IS002 report.
func IstioSpec[T proto.Message](o *Object) (T, bool) {
	var zero T
	if o == nil {
		return zero, false
	}
	d, err := o.Istio()
	if err != nil {
		return zero, false
	}
	spec, ok := d.Spec().(T)
	return spec, ok
}

// Typed is an Istio object with its typed spec.
type Typed[T proto.Message] struct {
	*Object
	Spec T
}

// typedKind returns the objects of kind (in its canonical group, as Kind)
// that have the typed form T, in render order.
func typedKind[T proto.Message](ix *Index, kind string) []Typed[T] {
	var out []Typed[T]
	for _, o := range ix.Kind(kind) {
		if spec, ok := IstioSpec[T](o); ok {
			out = append(out, Typed[T]{Object: o, Spec: spec})
		}
	}
	return out
}

// VirtualServices returns every networking.istio.io VirtualService that
// decodes strictly, in render order.
func (ix *Index) VirtualServices() []Typed[*networking.VirtualService] {
	return typedKind[*networking.VirtualService](ix, "VirtualService")
}

// Gateways returns every networking.istio.io Gateway (not a Gateway API
// one) that decodes strictly, in render order.
func (ix *Index) Gateways() []Typed[*networking.Gateway] {
	return typedKind[*networking.Gateway](ix, "Gateway")
}

// ServiceEntries returns every ServiceEntry that decodes strictly.
func (ix *Index) ServiceEntries() []Typed[*networking.ServiceEntry] {
	return typedKind[*networking.ServiceEntry](ix, "ServiceEntry")
}

// DestinationRules returns every DestinationRule that decodes strictly.
func (ix *Index) DestinationRules() []Typed[*networking.DestinationRule] {
	return typedKind[*networking.DestinationRule](ix, "DestinationRule")
}

// WasmPlugins returns every extensions.istio.io WasmPlugin that decodes
// strictly, in render order.
func (ix *Index) WasmPlugins() []Typed[*extensions.WasmPlugin] {
	return typedKind[*extensions.WasmPlugin](ix, "WasmPlugin")
}
