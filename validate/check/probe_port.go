package check

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// ProbePort catches probes aimed at a port the container does not name.
var ProbePort = catalogued("WL005")

func init() { ProbePort.Target = probePort }

func probePort(ix *index.Index, _ *Env) []Finding {
	c := ProbePort
	var out []Finding
	for _, w := range ix.Workloads("") {
		for _, ctr := range containers(w.Template.Spec) {
			named := map[string]bool{}
			for _, p := range ctr.Ports {
				named[p.Name] = true
			}
			for kind, probe := range map[string]*corev1.Probe{"livenessProbe": ctr.LivenessProbe, "readinessProbe": ctr.ReadinessProbe, "startupProbe": ctr.StartupProbe} {
				if probe == nil {
					continue
				}
				var port intstr.IntOrString
				switch {
				case probe.HTTPGet != nil:
					port = probe.HTTPGet.Port
				case probe.TCPSocket != nil:
					port = probe.TCPSocket.Port
				default:
					continue
				}
				if port.Type == intstr.String && !named[port.StrVal] {
					out = append(out, c.findingAt(ix, w.Object, []string{"spec", "template", "spec", "containers"}, "container %q %s probes port %q, which the container does not declare: name one of its ports so, or probe a number", ctr.Name, kind, port.StrVal))
				}
			}
		}
	}
	return out
}
