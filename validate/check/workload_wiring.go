package check

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// ServiceSelector catches a Service that selects no pods.
var ServiceSelector = &Check{
	Code:     "WL001",
	Name:     "service-selects-no-workload",
	Severity: Error,
	Summary:  "a Service's selector matches the pod labels of a workload in its namespace",
	Rationale: "A Service whose selector matches no pod has no endpoints: every route to it answers 503, and the API server " +
		"accepts it without complaint.",
}

// ServiceTargetPort catches a targetPort no selected container declares.
var ServiceTargetPort = &Check{
	Code:     "WL002",
	Name:     "service-target-port",
	Severity: Error,
	Summary:  "a Service's targetPort (number or name) is a port declared by the containers it selects",
	Rationale: "A named targetPort that no container declares gives the Service no endpoints; a numeric one that none declares " +
		"usually means the Service and the container disagree on the port, and Istio cannot tell the protocol of an undeclared port.",
}

// DeploymentSelector catches a workload whose selector misses its own pods.
var DeploymentSelector = &Check{
	Code:      "WL003",
	Name:      "workload-selector-mismatch",
	Severity:  Error,
	Summary:   "a Deployment, StatefulSet, DaemonSet or ReplicaSet selector matches its own pod template labels",
	Rationale: "The API server rejects such a workload (`selector` does not match template `labels`), failing the whole sync.",
}

func init() {
	ServiceSelector.Target = serviceSelector
	ServiceTargetPort.Target = serviceTargetPort
	DeploymentSelector.Target = deploymentSelector
}

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
			out = append(out, c.finding(ix, o, "selector {%s} matches no workload in namespace %s: closest is %s, where %s", formatLabels(svc.Spec.Selector), o.Namespace, w.String(), diff))
		} else {
			out = append(out, c.finding(ix, o, "selector {%s} matches no workload: namespace %s has none in this overlay", formatLabels(svc.Spec.Selector), o.Namespace))
		}
	}
	return out
}

func serviceTargetPort(ix *index.Index, _ *Env) []Finding {
	c := ServiceTargetPort
	var out []Finding
	for _, o := range ix.Kind("Service") {
		svc, ok := decodeService(o)
		if !ok || len(svc.Spec.Selector) == 0 {
			continue
		}
		matched, _ := selected(ix, svc, o.Namespace)
		for _, w := range matched {
			for _, p := range svc.Spec.Ports {
				target := p.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(p.Port)
				}
				if !declares(w.Template.Spec, target) {
					out = append(out, c.findingIn(ix, o, ix.FieldSource(o, "spec", "ports"), "port %q targets %s, which no container of %s declares: name or number a containerPort", p.Name, describePort(target), w.String()))
				}
			}
		}
	}
	return out
}

func describePort(p intstr.IntOrString) string {
	if p.Type == intstr.String {
		return fmt.Sprintf("port name %q", p.StrVal)
	}
	return fmt.Sprintf("port %d", p.IntVal)
}

func declares(spec corev1.PodSpec, target intstr.IntOrString) bool {
	for _, ctr := range spec.Containers {
		for _, cp := range ctr.Ports {
			if (target.Type == intstr.String && cp.Name == target.StrVal) || (target.Type == intstr.Int && cp.ContainerPort == target.IntVal) {
				return true
			}
		}
	}
	return false
}

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
				out = append(out, c.findingIn(ix, o, ix.FieldSource(o, "spec", "selector"), "spec.selector {%s} does not match its pod template labels {%s}: the API server rejects it", selector.String(), formatLabels(tpl)))
			}
		}
	}
	return out
}
