package check

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// ServiceTargetPort catches a targetPort no selected container declares.
var ServiceTargetPort = catalogued("WL002")

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
					out = append(out, c.findingAt(ix, o, []string{"spec", "ports"}, "port %q targets %s, which no container of %s declares: name or number a containerPort", p.Name, describePort(target), w.String()))
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

func init() {
	ServiceTargetPort.Target = serviceTargetPort
}
