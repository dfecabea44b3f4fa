package check

import (
	"strconv"

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
		for _, list := range []struct {
			field string
			ctrs  []corev1.Container
		}{{"initContainers", w.Template.Spec.InitContainers}, {"containers", w.Template.Spec.Containers}} {
			for i, ctr := range list.ctrs {
				named := map[string]bool{}
				for _, p := range ctr.Ports {
					named[p.Name] = true
				}
				for _, kind := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
					probe := map[string]*corev1.Probe{"livenessProbe": ctr.LivenessProbe, "readinessProbe": ctr.ReadinessProbe, "startupProbe": ctr.StartupProbe}[kind]
					if probe == nil {
						continue
					}
					var (
						port    intstr.IntOrString
						handler string
					)
					switch {
					case probe.HTTPGet != nil:
						port, handler = probe.HTTPGet.Port, "httpGet"
					case probe.TCPSocket != nil:
						port, handler = probe.TCPSocket.Port, "tcpSocket"
					default:
						continue
					}
					if port.Type == intstr.String && !named[port.StrVal] {
						// The line to edit is the probe's port:.
						at := append(podSpecPath(w.Kind), list.field, strconv.Itoa(i), kind, handler, "port")
						out = append(out, c.findingAt(ix, w.Object, at, "container %q %s probes port %q, which the container does not declare: name one of its ports so, or probe a number", ctr.Name, kind, port.StrVal))
					}
				}
			}
		}
	}
	return out
}

// podSpecPath is the path of a workload kind's pod spec.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return []string{"spec", "template", "spec"}
}
