// Package istio runs Istio's own admission rules offline: the API server's
// validation of Istio's CRDs (OpenAPI schema, CEL rules, unknown fields) and
// istiod's validating webhook, both from the pinned istio.io modules.
package istio

//go:generate sh -c "cp \"$(go list -m -f '{{.Dir}}' istio.io/api)/kubernetes/customresourcedefinitions.gen.yaml\" crds.gen.yaml && chmod 644 crds.gen.yaml"

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	"istio.io/istio/pkg/util/protomarshal"

	"meshops.dev/meshops/validate/crdschema"
)

// CRDs is the CustomResourceDefinition file istio.io/api ships, copied from
// the module version pinned in go.mod (go generate ./validate/istio).
//
//go:embed crds.gen.yaml
var CRDs []byte

// IsIstio reports whether an API group belongs to Istio.
func IsIstio(group string) bool { return strings.HasSuffix(group, ".istio.io") }

// Validator validates Istio resources. It is safe for concurrent use.
type Validator struct {
	schema *crdschema.Validator
}

// New reads the embedded CRDs.
func New() (*Validator, error) {
	v, err := crdschema.New(CRDs)
	if err != nil {
		return nil, fmt.Errorf("istio CRDs: %w", err)
	}
	return &Validator{schema: v}, nil
}

// Schema applies what the API server checks when the object is created: the
// CRD's structural schema, enum values, list types, CEL rules and unknown
// fields. obj is the object as a generic map.
func (v *Validator) Schema(obj map[string]any) error { return v.schema.Validate(obj) }

// Webhook applies what istiod's validating webhook checks, decoding the spec
// strictly: unknown fields and bad enum values are errors, as they are for
// the API server. It returns istiod's warnings and its error.
func (v *Validator) Webhook(obj map[string]any) (warning, err error) {
	d, err := Decode(obj)
	if err != nil {
		return nil, err
	}
	return d.Validate()
}

// Decoded is an Istio object decoded as istiod's webhook decodes it: its
// spec is the istio.io/api struct of its group and kind
// (*v1alpha3.VirtualService for networking.istio.io v1, v1beta1 and
// v1alpha3 alike, whose v1 types are aliases of v1alpha3's).
type Decoded struct {
	Config *config.Config
	schema resource.Schema
}

// Decode decodes obj, an Istio object as a generic map, the way IS002 does:
// the group and kind pick the schema from istiod's collections (Pilot), and
// the spec is decoded strictly (protomarshal.ApplyJSONStrict: unknown
// fields and bad enum values are errors). An object it cannot decode has
// no typed form; the error is the one IS002 reports.
func Decode(obj map[string]any) (*Decoded, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var kind crd.IstioKind
	if err := json.Unmarshal(raw, &kind); err != nil {
		return nil, fmt.Errorf("cannot decode configuration: %v", err)
	}
	gvk := kind.GroupVersionKind()
	s, ok := collections.Pilot.FindByGroupKind(resource.FromKubernetesGVK(&gvk))
	if !ok {
		return nil, fmt.Errorf("unrecognized type %v", gvk)
	}
	cfg, err := crd.ConvertObjectInternal(s, &kind, "cluster.local", strictFromJSON)
	if err != nil {
		return nil, fmt.Errorf("error decoding configuration: %v", err)
	}
	return &Decoded{Config: cfg, schema: s}, nil
}

// Spec returns the decoded spec: a *v1alpha3.Gateway, a
// *v1alpha1.WasmPlugin (extensions), and so on.
func (d *Decoded) Spec() proto.Message {
	m, _ := d.Config.Spec.(proto.Message)
	return m
}

// Validate runs istiod's validation of the decoded object (the schema's
// ValidateConfig: ValidateVirtualService, ValidateWasmPlugin...), returning
// its warnings and its error. It validates a copy: the decoded spec is
// shared by every check that reads it.
func (d *Decoded) Validate() (warning, err error) {
	return d.schema.ValidateConfig(d.Config.DeepCopy())
}

func strictFromJSON(s resource.Schema, js string) (config.Spec, error) {
	c, err := s.NewInstance()
	if err != nil {
		return nil, err
	}
	pb, ok := c.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%v is not a protobuf message", s.Kind())
	}
	if err := protomarshal.ApplyJSONStrict(js, pb); err != nil {
		return nil, err
	}
	return c, nil
}
