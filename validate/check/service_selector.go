package check

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"meshops.dev/meshops/validate/index"
)

// ServiceSelector catches a Service that selects no pods.
var ServiceSelector = catalogued("WL001")

func decodeService(o *index.Object) (*corev1.Service, bool) {
	var s corev1.Service
	if o.Content == nil || runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, &s) != nil {
		return nil, false
	}
	return &s, true
}

// selected returns the workloads a Service selects.
func selected(ix *index.Index, svc *corev1.Service, ns string) (matched, candidates []index.Workload) {
	candidates = ix.Workloads(ns)
	for _, w := range candidates {
		if subset(svc.Spec.Selector, w.Template.Labels) {
			matched = append(matched, w)
		}
	}
	return matched, candidates
}

func serviceSelector(ix *index.Index, _ *Env) []Finding {
	c := ServiceSelector
	var out []Finding
	for _, o := range ix.Kind("Service") {
		svc, ok := decodeService(o)
		if !ok || len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		matched, candidates := selected(ix, svc, o.Namespace)
		if len(matched) > 0 {
			continue
		}
		if w, diff, ok := closest(svc.Spec.Selector, candidates); ok {
			out = append(out, c.findingAt(ix, o, []string{"spec", "selector"}, "selector {%s} matches no workload in namespace %s: closest is %s, where %s", formatLabels(svc.Spec.Selector), o.Namespace, w.String(), diff))
		} else {
			out = append(out, c.findingAt(ix, o, []string{"spec", "selector"}, "selector {%s} matches no workload: namespace %s has none in this overlay", formatLabels(svc.Spec.Selector), o.Namespace))
		}
	}
	return out
}

func init() {
	ServiceSelector.Target = serviceSelector
}
