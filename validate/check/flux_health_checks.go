package check

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// FluxHealthChecks checks that a Flux Kustomization's healthChecks name
// objects that are applied.
//
// kustomize-controller (internal/controller/kustomization_controller.go,
// checkHealth) turns spec.healthChecks into object references
// (internal/inventory.ReferenceToObjMetadataSet: apiVersion defaults to
// apps/v1, the namespace is taken as written) and waits for each with kstatus
// (fluxcd/pkg/ssa WaitForSetWithContext) until spec.timeout: an object
// nobody applies is NotFound until then, the Kustomization turns
// Ready=False (HealthCheckFailed) and every Kustomization that dependsOn it
// waits too. With spec.wait the controller checks the applied objects
// instead and ignores healthChecks, so a wrong entry there is dead text.
// An object another entry point of the same cluster folder applies is fine.
var FluxHealthChecks = catalogued("GO008")

func init() { FluxHealthChecks.Repo = fluxHealthChecks }

func fluxHealthChecks(repo *Repo, _ *Env) []Finding {
	c := FluxHealthChecks
	var out []Finding
	for _, e := range repo.Entries {
		if e.Engine != render.Flux || e.Flux == nil || len(e.Flux.Spec.HealthChecks) == 0 {
			continue
		}
		own := entryIndex(repo, e)
		if own == nil {
			continue // did not render: GO001 / RN002 say why
		}
		for i, hc := range e.Flux.Spec.HealthChecks {
			apiVersion := hc.APIVersion
			if apiVersion == "" {
				apiVersion = "apps/v1"
			}
			gv, err := schema.ParseGroupVersion(apiVersion)
			if err != nil {
				continue // GO002's schema reports it
			}
			if hc.Kind == "Kustomization" && gv.Group == "kustomize.toolkit.fluxcd.io" && hc.Name == e.Name && (hc.Namespace == "" || hc.Namespace == e.Namespace) {
				continue // the controller skips itself
			}
			if applies(own, gv.Group, hc.Kind, hc.Namespace, hc.Name) || appliedInCluster(repo, e, gv.Group, hc.Kind, hc.Namespace, hc.Name) {
				continue
			}
			what := fmt.Sprintf("%s %s", hc.Kind, hc.Name)
			if hc.Namespace != "" {
				what = fmt.Sprintf("%s %s/%s", hc.Kind, hc.Namespace, hc.Name)
			}
			msg := "healthChecks names %s (%s), which neither this Kustomization nor any other entry point of %s applies: kustomize-controller waits for it until spec.timeout and marks the Kustomization Ready=False (HealthCheckFailed)"
			if e.Flux.Spec.Wait {
				msg = "healthChecks names %s (%s), which neither this Kustomization nor any other entry point of %s applies; with wait: true kustomize-controller ignores healthChecks, so this entry checks nothing: fix or remove it"
			}
			if hc.Namespace == "" {
				msg += "; it has no namespace, so only a cluster-scoped object can match"
			}
			line := e.Line
			if repo.Tree != nil {
				if data, err := repo.Tree.ReadFile(e.File); err == nil {
					line = seqLine(data, e.Line, []string{"spec", "healthChecks"}, i)
				}
			}
			out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: e.ID(), File: e.File, Line: line,
				Resource: "Kustomization " + e.Namespace + "/" + e.Name, Message: fmt.Sprintf(msg, what, apiVersion, e.Cluster)})
		}
	}
	return out
}

// entryIndex returns the rendered target of entry point e, or nil.
func entryIndex(repo *Repo, e *render.EntryPoint) *index.Index {
	for _, ix := range repo.Targets {
		if ix.Target.Entry == e || (ix.Target.Entry != nil && ix.Target.ID() == e.ID()) {
			return ix
		}
	}
	return nil
}

// applies reports whether ix renders the object group/kind namespace/name.
func applies(ix *index.Index, group, kind, namespace, name string) bool {
	for _, o := range ix.GroupKind(group, kind) {
		if o.Name == name && o.Namespace == namespace {
			return true
		}
	}
	return false
}

// appliedInCluster reports whether another target of e's cluster folder (an
// entry point there, or the folder itself) renders the object.
func appliedInCluster(repo *Repo, e *render.EntryPoint, group, kind, namespace, name string) bool {
	for _, ix := range repo.Targets {
		t := ix.Target
		same := t.Entry != nil && t.Entry != e && t.Entry.Cluster == e.Cluster
		same = same || (t.Entry == nil && (t.Dir == e.Cluster || strings.HasPrefix(t.Dir, e.Cluster+"/")))
		if same && applies(ix, group, kind, namespace, name) {
			return true
		}
	}
	return false
}
