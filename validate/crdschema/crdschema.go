// Package crdschema validates custom resources as the API server does once
// their CustomResourceDefinitions are installed: OpenAPI schema with
// defaulting, list types, unknown-field pruning and CEL rules, using the API
// server's own apiextensions code.
package crdschema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Validator validates objects of the kinds its CRDs define. It is safe for
// concurrent use.
type Validator struct {
	mu       sync.Mutex
	versions map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps
	compiled map[schema.GroupVersionKind]*crdSchema
}

// New reads CRD manifests (YAML, several documents each; other kinds are
// skipped). Each kind's schema and CEL rules are compiled when the first
// object of that kind is validated: compiling is the expensive part.
func New(manifests ...[]byte) (*Validator, error) {
	var crds []apiextensions.CustomResourceDefinition
	for _, m := range manifests {
		parsed, err := parse(m)
		if err != nil {
			return nil, err
		}
		crds = append(crds, parsed...)
	}
	versions, err := servedVersions(crds)
	if err != nil {
		return nil, err
	}
	return &Validator{versions: versions, compiled: map[schema.GroupVersionKind]*crdSchema{}}, nil
}

// Serves reports whether a CRD serves gvk.
func (v *Validator) Serves(gvk schema.GroupVersionKind) bool {
	_, ok := v.versions[gvk]
	return ok
}

// ServesGroupKind reports whether a CRD defines the kind in any version.
func (v *Validator) ServesGroupKind(group, kind string) bool {
	for gvk := range v.versions {
		if gvk.Group == group && gvk.Kind == kind {
			return true
		}
	}
	return false
}

// Validate checks obj (a generic map with apiVersion and kind) as the API
// server would on create.
func (v *Validator) Validate(obj map[string]any) error {
	gvk := (&unstructured.Unstructured{Object: obj}).GroupVersionKind()
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.compiled[gvk]
	if !ok {
		props, served := v.versions[gvk]
		if !served {
			return fmt.Errorf("no CRD serves %s (check apiVersion and kind)", gvk)
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

func parse(data []byte) ([]apiextensions.CustomResourceDefinition, error) {
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
			return nil, fmt.Errorf("CRD %s: %w", un.GetName(), err)
		}
		var internal apiextensions.CustomResourceDefinition
		if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &internal, nil); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", un.GetName(), err)
		}
		out = append(out, internal)
	}
}

// crdSchema is what the API server compiles from one served CRD version.
type crdSchema struct {
	openapi    validation.SchemaCreateValidator
	structural *structuralschema.Structural
	cel        *cel.Validator
}

// servedVersions indexes every served version of every CRD by GVK. Compiling
// a version's schema is the expensive part (CEL programs), so it happens on
// first use, for the kinds the repository actually deploys.
func servedVersions(crds []apiextensions.CustomResourceDefinition) (map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps, error) {
	out := map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps{}
	for _, crd := range crds {
		for _, ver := range crd.Spec.Versions {
			if !ver.Served {
				continue
			}
			s := ver.Schema
			if s == nil {
				s = crd.Spec.Validation
			}
			if s == nil || s.OpenAPIV3Schema == nil {
				return nil, fmt.Errorf("CRD %s version %s has no schema", crd.Name, ver.Name)
			}
			out[schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}] = s.OpenAPIV3Schema
		}
	}
	return out, nil
}

// compile builds what the API server builds from one CRD version's schema.
// It mirrors istio.io/istio/pkg/config/crd's Validator, which cannot be
// linked into a command: that package pulls in Istio's test environment,
// which logs to stdout at start-up.
func compile(gvk schema.GroupVersionKind, props *apiextensions.JSONSchemaProps) (*crdSchema, error) {
	openapi, _, err := validation.NewSchemaValidator(props)
	if err != nil {
		return nil, fmt.Errorf("CRD schema of %s: %w", gvk, err)
	}
	structural, err := structuralschema.NewStructural(props)
	if err != nil {
		return nil, fmt.Errorf("CRD schema of %s: %w", gvk, err)
	}
	return &crdSchema{openapi: openapi, structural: structural, cel: cel.NewValidator(structural, true, celconfig.PerCallLimit)}, nil
}

// validate applies, in the API server's order, defaulting, OpenAPI
// validation, list-type rules, unknown-field pruning and CEL rules.
func (s *crdSchema) validate(obj map[string]any) error {
	if errs := validation.ValidateCustomResource(nil, obj, s.openapi); len(errs) > 0 {
		return errs.ToAggregate()
	}
	if errs := structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj); len(errs) > 0 {
		return errs.ToAggregate()
	}
	pruned, err := normalize(obj)
	if err != nil {
		return err
	}
	unknown := structuralpruning.PruneWithOptions(pruned, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	var fields []string
	for _, f := range unknown {
		if !strings.HasPrefix(f, "metadata.") {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 {
		sort.Strings(fields)
		return fmt.Errorf("unknown field(s) %s: the API server rejects them (strict field validation) or drops them", strings.Join(fields, ", "))
	}
	if s.cel != nil {
		errs, _ := s.cel.Validate(context.Background(), nil, s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		if len(errs) > 0 {
			return errs.ToAggregate()
		}
	}
	return nil
}

// normalize returns a deep copy of obj in the API server's JSON form: whole
// numbers as int64, as the schema and CEL validators expect.
func normalize(obj map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := utiljson.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// defaulted returns a normalized copy of obj with the schema's defaults set.
func (s *crdSchema) defaulted(obj map[string]any) (map[string]any, error) {
	out, err := normalize(obj)
	if err != nil {
		return nil, err
	}
	structuraldefaulting.Default(out, s.structural)
	return out, nil
}
