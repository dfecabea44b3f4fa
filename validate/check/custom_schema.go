package check

import (
	"encoding/json"
	"fmt"
	"sort"

	"meshops.dev/meshops/validate/crdschema"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
)

// CustomSchema validates custom resources against the CustomResourceDefinitions
// the repository itself declares or installs: any rendered target's CRD
// objects (plain files, Kustomize resources, a chart once its render is a
// target), with the API server's schema, defaulting, list-type, pruning and
// CEL code (validate/crdschema, as IS001 and GO002 use it). A CRD the API
// server would refuse is reported too. Kinds with no schema anywhere are not
// findings: the report lists them as not checked (Unchecked).
var CustomSchema = catalogued("SCH001")

func init() { CustomSchema.Repo = customSchema }

// repoSchemas are the CRDs the repository's targets render, decoded once per run.
type repoSchemas struct {
	v   *crdschema.Validator
	bad []Finding // CRDs that do not decode
}

// schemas returns the validator of the repository's own CRDs.
func (r *Repo) schemas() *repoSchemas {
	r.crdOnce.Do(func() {
		s := &repoSchemas{}
		var good [][]byte
		seen := map[string]bool{}
		for _, ix := range r.Targets {
			for _, o := range ix.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition") {
				js, err := json.Marshal(o.Content)
				if err != nil || seen[string(js)] {
					continue
				}
				seen[string(js)] = true
				one, err := crdschema.New(js)
				if err == nil {
					err = one.DecodeAll()
				}
				if err != nil {
					s.bad = append(s.bad, CustomSchema.findingAt(ix, o, messageField(err.Error()), "the API server would refuse this CustomResourceDefinition: %v", err))
					continue
				}
				good = append(good, js)
			}
		}
		if v, err := crdschema.New(good...); err == nil {
			s.v = v
		}
		r.crds = s
	})
	return r.crds
}

// schemaOf says how o's kind is checked: "" when it is, else why not.
func schemaOf(o *index.Object, env *Env, crds *crdschema.Validator) (checkedBy string) {
	switch {
	case builtin(o):
		return "K8S001"
	case istio.IsIstio(o.Group):
		return "IS001"
	case env.GitOps != nil && env.GitOps.ServesGroupKind(o.Group, o.Kind):
		return "GO002"
	case o.Group == "apiextensions.k8s.io" && o.Kind == "CustomResourceDefinition":
		return "SCH001"
	case crds != nil && crds.ServesGroupKind(o.Group, o.Kind):
		return "SCH001"
	}
	return ""
}

func customSchema(repo *Repo, env *Env) []Finding {
	c := CustomSchema
	s := repo.schemas()
	out := append([]Finding(nil), s.bad...)
	if s.v == nil {
		return out
	}
	for _, ix := range repo.Targets {
		if ix.Origin() != ix {
			continue // shares another target's objects and findings
		}
		for _, o := range ix.Objects {
			if o.Content == nil || schemaOf(o, env, nil) != "" || !s.v.ServesGroupKind(o.Group, o.Kind) {
				continue
			}
			if err := s.v.Validate(o.Content); err != nil {
				out = append(out, c.findingAt(ix, o, messageField(err.Error()), "rejected by the %s CustomResourceDefinition this repository installs: %v", o.Kind, err))
			}
		}
	}
	return out
}

// Unchecked is what the validator could not check in one target: the
// kinds no schema it knows (built-in, Istio's, Flux's and Argo CD's
// embedded CRDs, the repository's own CRDs) defines.
type Unchecked struct {
	Target string `json:"target"`
	// Kinds are "group/version Kind (count)", sorted.
	Kinds []string `json:"kinds"`
}

// NotChecked lists, per rendered target, the kinds of objects no schema
// covers, so that nothing passes in silence.
func NotChecked(repo *Repo, env *Env) []Unchecked {
	s := repo.schemas()
	var out []Unchecked
	for _, ix := range repo.Targets {
		count := map[string]int{}
		for _, o := range ix.Objects {
			if schemaOf(o, env, s.v) == "" {
				count[o.Res.GetApiVersion()+" "+o.Kind]++
			}
		}
		if len(count) == 0 {
			continue
		}
		u := Unchecked{Target: ix.Target.ID()}
		for k, n := range count {
			u.Kinds = append(u.Kinds, fmt.Sprintf("%s (%d)", k, n))
		}
		sort.Strings(u.Kinds)
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}
