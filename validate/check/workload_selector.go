package check

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"meshops.dev/meshops/validate/index"
)

// DeploymentSelector catches a workload whose selector misses its own pods.
var DeploymentSelector = catalogued("WL003")

func deploymentSelector(ix *index.Index, _ *Env) []Finding {
	c := DeploymentSelector
	var out []Finding
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"} {
		for _, o := range ix.Kind(kind) {
			var sel metav1.LabelSelector
			raw := mapOf(o.Spec(), "selector")
			if raw == nil || runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel) != nil {
				continue // required field: the schema check reports it
			}
			selector, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				out = append(out, c.finding(ix, o, "spec.selector is invalid: %v", err))
				continue
			}
			tpl := stringMap(mapOf(mapOf(mapOf(o.Spec(), "template"), "metadata"), "labels"))
			if selector.Empty() || !selector.Matches(labels.Set(tpl)) {
				out = append(out, c.findingAt(ix, o, []string{"spec", "selector"}, "spec.selector {%s} does not match its pod template labels {%s}: the API server rejects it", selector.String(), formatLabels(tpl)))
			}
		}
	}
	return out
}

func init() {
	DeploymentSelector.Target = deploymentSelector
}
