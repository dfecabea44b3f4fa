package check

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// ProbePort catches probes aimed at a port the container does not declare.
//
// The kubelet resolves a probe's port name among its container's ports
// (pkg/kubelet/prober/prober.go, findPortByName via
// kubecontainer.ResolvePort: "couldn't find port") and dials a number as it
// is on the pod's IP. A name no container port carries fails every probe; a
// number no container of the pod declares is, in a repository, a probe on a
// port nothing was written to listen on (the Service port, say): the pod
// never becomes Ready. A pod that declares no port at all says nothing about
// what it listens on, and is left alone.
var ProbePort = catalogued("WL005")

func init() { ProbePort.Target = probePort }

func probePort(ix *index.Index, _ *Env) []Finding {
	c := ProbePort
	var out []Finding
	for _, w := range ix.Workloads("") {
		spec := w.Template.Spec
		declared := map[int32]bool{}
		for _, ctr := range containers(spec) {
			for _, p := range ctr.Ports {
				declared[p.ContainerPort] = true
			}
		}
		for _, list := range []struct {
			field string
			ctrs  []corev1.Container
		}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
			for i, ctr := range list.ctrs {
				named := map[string]bool{}
				for _, p := range ctr.Ports {
					named[p.Name] = true
				}
				for _, pr := range []struct {
					kind  string
					probe *corev1.Probe
				}{{"livenessProbe", ctr.LivenessProbe}, {"readinessProbe", ctr.ReadinessProbe}, {"startupProbe", ctr.StartupProbe}} {
					if pr.probe == nil {
						continue
					}
					var port intstr.IntOrString
					var handler string
					switch {
					case pr.probe.HTTPGet != nil:
						port, handler = pr.probe.HTTPGet.Port, "httpGet"
					case pr.probe.TCPSocket != nil:
						port, handler = pr.probe.TCPSocket.Port, "tcpSocket"
					default:
						continue
					}
					at := append(podSpecPath(w.Kind), list.field, strconv.Itoa(i), pr.kind, handler, "port")
					switch {
					case port.Type == intstr.String && !named[port.StrVal]:
						out = append(out, c.findingAt(ix, w.Object, at, "container %q %s probes port %q, which the container does not declare: name one of its ports so, or probe a number", ctr.Name, pr.kind, port.StrVal))
					case port.Type == intstr.Int && len(declared) > 0 && !declared[port.IntVal]:
						out = append(out, c.findingAt(ix, w.Object, at, "container %q %s probes port %d, which no container of the pod declares (%s): the kubelet's probe fails and the pod never becomes Ready; probe a declared containerPort", ctr.Name, pr.kind, port.IntVal, declaredPorts(spec)))
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

// declaredPorts lists a pod's container ports for messages: "http 8080/TCP".
func declaredPorts(spec corev1.PodSpec) string {
	s := ""
	for _, ctr := range containers(spec) {
		for _, p := range ctr.Ports {
			if s != "" {
				s += ", "
			}
			if p.Name != "" {
				s += p.Name + " "
			}
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			s += strconv.Itoa(int(p.ContainerPort)) + "/" + string(proto)
		}
	}
	if s == "" {
		return "none"
	}
	return s
}
