package check

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// NetworkPolicyPort checks that an ingress rule's ports are ports the
// selected pods listen on.
//
// NetworkPolicy ports are pod ports: k8s.io/api networking/v1
// NetworkPolicyPort.Port is "a numerical or named port on a pod", and the
// network plugin matches it against the destination pod's port after the
// Service's DNAT (a named port is looked up among the pod's container
// ports). A rule that allows the Service's port 80 while the pods listen on
// 8080 allows nothing: once a policy selects the pods, every connection to
// 8080 is dropped.
var NetworkPolicyPort = catalogued("NP001")

func init() { NetworkPolicyPort.Target = networkPolicyPort }

func networkPolicyPort(ix *index.Index, _ *Env) []Finding {
	c := NetworkPolicyPort
	var out []Finding
	for _, o := range ix.GroupKind("networking.k8s.io", "NetworkPolicy") {
		var np networkingv1.NetworkPolicy
		if !decodeAs(o, &np) {
			continue
		}
		pods, ok := podsSelected(ix, o.Namespace, &np.Spec.PodSelector)
		if !ok || len(pods) == 0 {
			continue
		}
		for i, rule := range np.Spec.Ingress {
			for j, p := range rule.Ports {
				if p.Port == nil {
					continue // every port
				}
				proto := corev1.ProtocolTCP
				if p.Protocol != nil {
					proto = *p.Protocol
				}
				if anyPodServes(pods, *p.Port, p.EndPort, proto) {
					continue
				}
				msg := "ingress port %s/%s is not a port of the pods the policy selects (%s): NetworkPolicy ports are pod ports, so this rule allows nothing and traffic to the pods is dropped"
				args := []any{p.Port.String(), proto, declaredPorts(pods[0].Template.Spec)}
				if tp := serviceTargetFor(ix, o.Namespace, pods, *p.Port); tp != "" {
					msg += "; %s is a Service port whose pods listen on %s"
					args = append(args, p.Port.String(), tp)
				}
				out = append(out, c.findingAt(ix, o, []string{"spec", "ingress", strconv.Itoa(i), "ports", strconv.Itoa(j), "port"}, msg, args...))
			}
		}
	}
	return out
}

// anyPodServes reports whether some selected pod has a container port the
// policy port names (by number, within endPort, or by name) on proto.
func anyPodServes(pods []index.Workload, port intstr.IntOrString, endPort *int32, proto corev1.Protocol) bool {
	for _, w := range pods {
		for _, ctr := range containers(w.Template.Spec) {
			for _, cp := range ctr.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cproto != proto {
					continue
				}
				switch {
				case port.Type == intstr.String && cp.Name == port.StrVal:
					return true
				case port.Type == intstr.Int && endPort != nil && cp.ContainerPort >= port.IntVal && cp.ContainerPort <= *endPort:
					return true
				case port.Type == intstr.Int && cp.ContainerPort == port.IntVal:
					return true
				}
			}
		}
	}
	return false
}

// serviceTargetFor returns the targetPort of a Service port numbered port
// that selects these pods, for the message, or "".
func serviceTargetFor(ix *index.Index, ns string, pods []index.Workload, port intstr.IntOrString) string {
	if port.Type != intstr.Int {
		return ""
	}
	for _, o := range ix.Kind("Service") {
		svc, ok := decodeService(o)
		if !ok || o.Namespace != ns {
			continue
		}
		matched, _ := selected(ix, svc, ns)
		if len(matched) == 0 {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if sp.Port == port.IntVal {
				return sp.TargetPort.String()
			}
		}
	}
	return ""
}
