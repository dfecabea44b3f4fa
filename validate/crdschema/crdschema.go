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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Validator validates objects of the kinds its CRDs define. It is safe for
// concurrent use.
type Validator struct {
	mu sync.Mutex
	// pending are the CRD documents not decoded yet, by the group and kind
	// a scan of their text names (scanCRD); decoding is most of New's cost,
	// and a repository uses a few of the kinds the bundles define.
	pending  map[schema.GroupKind][][]byte
	versions map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps
	compiled map[schema.GroupVersionKind]*crdSchema
}

// New reads CRD manifests (YAML, several documents each; other kinds are
// skipped). A document is decoded when an object of its group and kind is
// first looked up, and each kind's schema and CEL rules are compiled when
// the first object of that kind is validated. A document whose group and
// kind the scan cannot read is decoded at once.
func New(manifests ...[]byte) (*Validator, error) {
	v := &Validator{
		pending:  map[schema.GroupKind][][]byte{},
		versions: map[schema.GroupVersionKind]*apiextensions.JSONSchemaProps{},
		compiled: map[schema.GroupVersionKind]*crdSchema{},
	}
	for _, m := range manifests {
		for _, doc := range splitDocuments(m) {
			if gk, ok := scanCRD(doc); ok {
				v.pending[gk] = append(v.pending[gk], doc)
				continue
			}
			if err := v.decode(doc); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// DecodeAll decodes every pending document: a test's way to know that the
// embedded bundles are well-formed, which lazy decoding would tell only for
// the kinds a repository uses.
func (v *Validator) DecodeAll() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for gk := range v.pending {
		if err := v.decodeGroupKind(gk); err != nil {
			return err
		}
	}
	return nil
}

// decodeGroupKind decodes the pending documents of gk; v.mu is held.
func (v *Validator) decodeGroupKind(gk schema.GroupKind) error {
	docs, ok := v.pending[gk]
	if !ok {
		return nil
	}
	delete(v.pending, gk)
	for _, doc := range docs {
		if err := v.decode(doc); err != nil {
			return err
		}
	}
	for gvk := range v.versions {
		if gvk.GroupKind() == gk {
			return nil
		}
	}
	return fmt.Errorf("a CRD document read as %s serves no version of it", gk)
}

// decode adds the served versions of the CRDs of one YAML document.
func (v *Validator) decode(doc []byte) error {
	crds, err := parse(doc)
	if err != nil {
		return err
	}
	versions, err := servedVersions(crds)
	if err != nil {
		return err
	}
	for gvk, props := range versions {
		v.versions[gvk] = props
	}
	return nil
}

// lookup returns the schema of gvk's served version, decoding its CRD first.
func (v *Validator) lookup(gvk schema.GroupVersionKind) (*apiextensions.JSONSchemaProps, bool, error) {
	err := v.decodeGroupKind(gvk.GroupKind())
	props, ok := v.versions[gvk]
	return props, ok, err
}

// Serves reports whether a CRD serves gvk.
func (v *Validator) Serves(gvk schema.GroupVersionKind) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok, _ := v.lookup(gvk)
	return ok
}

// ServesGroupKind reports whether a CRD defines the kind in any version.
func (v *Validator) ServesGroupKind(group, kind string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.decodeGroupKind(schema.GroupKind{Group: group, Kind: kind}) != nil {
		return false
	}
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
		props, served, err := v.lookup(gvk)
		if err != nil {
			return fmt.Errorf("CRD of %s: %w", gvk.GroupKind(), err)
		}
		if !served {
			return fmt.Errorf("no CRD serves %s (check apiVersion and kind)", gvk)
		}
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

// splitDocuments splits a YAML stream at its "---" separator lines.
func splitDocuments(data []byte) [][]byte {
	var out [][]byte
	start := 0
	for start < len(data) {
		end := len(data)
		next := len(data)
		for i := start; i < len(data); {
			j := bytes.IndexByte(data[i:], '\n')
			line := data[i:]
			if j >= 0 {
				line = data[i : i+j]
			}
			if bytes.Equal(bytes.TrimRight(line, " \r"), []byte("---")) {
				end = i
				next = i + len(line)
				if j >= 0 {
					next++
				}
				break
			}
			if j < 0 {
				break
			}
			i += j + 1
		}
		if doc := data[start:end]; len(bytes.TrimSpace(doc)) > 0 {
			out = append(out, doc)
		}
		start = next
	}
	return out
}

// scanCRD reads spec.group and spec.names.kind of a CustomResourceDefinition
// document in the block style controller-gen and Istio's generator write
// (top-level keys at column 0, two spaces per level), without decoding it.
// A document that is one JSON object has its head decoded instead. ok is
// false for any other shape, which New then decodes at once.
func scanCRD(doc []byte) (gk schema.GroupKind, ok bool) {
	if trimmed := bytes.TrimSpace(doc); len(trimmed) > 0 && trimmed[0] == '{' {
		// One JSON object (a bundle written as JSON): its head, decoded.
		var head struct {
			Kind string `json:"kind"`
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
			} `json:"spec"`
		}
		if json.Unmarshal(trimmed, &head) != nil {
			return gk, false
		}
		gk = schema.GroupKind{Group: head.Spec.Group, Kind: head.Spec.Names.Kind}
		return gk, head.Kind == "CustomResourceDefinition" && gk.Group != "" && gk.Kind != ""
	}
	var isCRD, inSpec, inNames bool
	objects := 0
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimRight(line, " \r")
		switch {
		case line == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
			continue
		case !strings.HasPrefix(line, " "):
			inSpec, inNames = line == "spec:", false
			if strings.HasPrefix(line, "apiVersion:") {
				objects++
			}
			if line == "kind: CustomResourceDefinition" {
				isCRD = true
			}
		case inSpec && !strings.HasPrefix(line, "   "):
			inNames = line == "  names:"
			if v, found := strings.CutPrefix(line, "  group: "); found {
				gk.Group = strings.Trim(v, `"'`)
			}
		case inNames && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			if v, found := strings.CutPrefix(line, "    kind: "); found {
				gk.Kind = strings.Trim(v, `"'`)
			}
		}
	}
	return gk, isCRD && objects == 1 && gk.Group != "" && gk.Kind != ""
}

func parse(data []byte) ([]apiextensions.CustomResourceDefinition, error) {
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 512*1024)
	var out []apiextensions.CustomResourceDefinition
	for {
		// Each document as JSON (the decoder converts YAML), then straight
		// into the typed CRD: no generic map in between.
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var head metav1.TypeMeta
		if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &head) != nil ||
			head.GroupVersionKind() != (schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}) {
			continue
		}
		var v1 apiextensionsv1.CustomResourceDefinition
		if err := utiljson.Unmarshal(raw, &v1); err != nil {
			return nil, fmt.Errorf("CRD: %w", err)
		}
		var internal apiextensions.CustomResourceDefinition
		if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &internal, nil); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", v1.Name, err)
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
