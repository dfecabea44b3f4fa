// Package istio runs Istio's own admission rules offline: the API server's
// validation of Istio's CRDs (OpenAPI schema, CEL rules, unknown fields) and
// istiod's validating webhook, both from the pinned istio.io modules.
package istio

//go:generate sh -c "cp \"$(go list -m -f '{{.Dir}}' istio.io/api)/kubernetes/customresourcedefinitions.gen.yaml\" crds.gen.yaml && chmod 644 crds.gen.yaml"

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	"google.golang.org/protobuf/proto"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	"istio.io/istio/pkg/util/protomarshal"
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
	mu       sync.Mutex
	versions map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps
	compiled map[schema.GroupVersionKind]*crdSchema
}

// New reads the embedded CRDs; each kind's schema and CEL rules are compiled
// when the first object of that kind is validated.
func New() (*Validator, error) {
	crds, err := parseCRDs(CRDs)
	if err != nil {
		return nil, fmt.Errorf("istio CRDs: %w", err)
	}
	versions, err := servedVersions(crds)
	if err != nil {
		return nil, fmt.Errorf("istio CRDs: %w", err)
	}
	return &Validator{versions: versions, compiled: map[schema.GroupVersionKind]*crdSchema{}}, nil
}

func parseCRDs(data []byte) ([]apiextensions.CustomResourceDefinition, error) {
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 512*1024)
	var out []apiextensions.CustomResourceDefinition
	for {
		un := &unstructured.Unstructured{}
		err := dec.Decode(un)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if un.GroupVersionKind() != (schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}) {
			continue
		}
		var v1 apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(un.UnstructuredContent(), &v1); err != nil {
			return nil, err
		}
		var internal apiextensions.CustomResourceDefinition
		if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &internal, nil); err != nil {
			return nil, err
		}
		out = append(out, internal)
	}
}

// Schema applies what the API server checks when the object is created: the
// CRD's structural schema, enum values, list types, CEL rules and unknown
// fields. obj is the object as a generic map.
func (v *Validator) Schema(obj map[string]any) error {
	u := unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.compiled[gvk]
	if !ok {
		props, served := v.versions[gvk]
		if !served {
			return fmt.Errorf("no CRD serves %s in Istio's CRDs (check apiVersion and kind)", gvk)
		}
		var err error
		if s, err = compile(gvk, props); err != nil {
			return err
		}
		v.compiled[gvk] = s
	}
	defaulted, err := s.defaulted(obj)
	if err != nil {
		return err
	}
	return s.validate(defaulted)
}

// Webhook applies what istiod's validating webhook checks, decoding the spec
// strictly: unknown fields and bad enum values are errors, as they are for
// the API server. It returns istiod's warnings and its error.
func (v *Validator) Webhook(obj map[string]any) (warning, err error) {
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
	return s.ValidateConfig(*cfg)
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
