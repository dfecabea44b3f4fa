package flux

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/envsubst"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// varNotSet matches envsubst's strict-mode error, which names the variable.
var varNotSet = regexp.MustCompile(`variable not set \(strict mode\): "([^"]+)"`)

// undefinedVars returns the variables data uses with no value and no
// default, by evaluating it as Flux's strict mode does until it passes.
func undefinedVars(data string, vars map[string]string) []string {
	known := map[string]string{}
	for k, v := range vars {
		known[k] = v
	}
	var names []string
	for range 1000 {
		_, err := envsubst.Eval(data, func(s string) (string, bool) { v, ok := known[s]; return v, ok })
		if err == nil {
			return names
		}
		m := varNotSet.FindStringSubmatch(err.Error())
		if m == nil {
			return names // a malformed expression: the substitution itself reports it
		}
		names = append(names, m[1])
		known[m[1]] = ""
	}
	return names
}

// postBuild runs Flux's per-resource steps on a built target: the
// apiVersion/kind/name check, variable substitution (with SubstituteVariables
// itself; the variables resolved beforehand, since there is no cluster to
// read them from) and commonMetadata.
func postBuild(res *render.Result) error {
	e := res.Target.Entry
	spec := e.Flux.Spec
	var u unstructured.Unstructured
	if spec.PostBuild != nil {
		// Hand SubstituteVariables the variables as inline ones, in dry-run
		// mode (which skips its cluster reads): the same values in the same
		// precedence.
		vars := map[string]any{}
		for k, v := range res.Target.Variables() {
			vars[k] = v
		}
		u.Object = map[string]any{"metadata": map[string]any{"name": e.Name, "namespace": e.Namespace},
			"spec": map[string]any{"postBuild": map[string]any{"substitute": vars}}}
	}
	always := spec.PostBuild != nil && spec.PostBuild.SubstituteStrategy == "Always"
	for _, r := range res.Resources.Resources() {
		if r.GetName() == "" || r.GetKind() == "" || r.GetApiVersion() == "" {
			return fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", r.String())
		}
		if spec.PostBuild == nil {
			continue
		}
		var undefined []string
		if len(res.Target.Variables()) > 0 || always {
			if data, err := r.AsYAML(); err == nil && r.GetLabels()["kustomize.toolkit.fluxcd.io/substitute"] != "disabled" &&
				r.GetAnnotations()["kustomize.toolkit.fluxcd.io/substitute"] != "disabled" {
				undefined = undefinedVars(string(data), res.Target.Variables())
			}
		}
		out, err := fluxkustomize.SubstituteVariables(context.Background(), nil, u, r,
			fluxkustomize.SubstituteWithDryRun(true), fluxkustomize.SubstituteWithAlways(always))
		if err != nil {
			return fmt.Errorf("post build failed for '%s/%s': %w", r.GetGvk(), r.GetName(), err)
		}
		if out != nil {
			if _, err := res.Resources.Replace(r); err != nil {
				return err
			}
		}
		if len(undefined) > 0 {
			res.Undefined = append(res.Undefined, render.UndefinedVar{Resource: r, Names: undefined})
		}
	}
	if cm := spec.CommonMetadata; cm != nil {
		// ssa/utils.SetCommonMetadata: set each label and annotation on
		// every object, overwriting the object's own.
		for _, r := range res.Resources.Resources() {
			labels, annotations := r.GetLabels(), r.GetAnnotations()
			for k, v := range cm.Labels {
				labels[k] = v
			}
			for k, v := range cm.Annotations {
				annotations[k] = v
			}
			if err := r.SetLabels(labels); err != nil {
				return err
			}
			if err := r.SetAnnotations(annotations); err != nil {
				return err
			}
		}
	}
	return nil
}

// Build builds a target Sources.Prepare prepared as kustomize-controller
// does: Kustomize with no load restrictions and no plugins, then postBuild.
func Build(t *render.Tree, target render.Target) (*render.Result, error) {
	b := kustomize.Builder{Options: kustomize.Options(), PostBuild: postBuild}
	b.Options.LoadRestrictions = types.LoadRestrictionsNone
	if target.CustomSchema() {
		b.Kustomize = fluxBuild
	}
	return b.Build(t, target)
}

// fluxBuild builds with fluxcd/pkg/kustomize's Build: it holds a
// package-wide lock and resets kyaml's OpenAPI schema around the build, so
// a custom openapi: schema does not leak into other builds.
func fluxBuild(t *render.Tree, dir string) (resmap.ResMap, error) {
	m, err := fluxkustomize.Build(t.FS(), t.Abs(dir))
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), t.Root+"/", ""))
	}
	return m, nil
}
