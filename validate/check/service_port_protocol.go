package check

import (
	istiokube "istio.io/istio/pkg/config/kube"
	"istio.io/istio/pkg/config/protocol"
	corev1 "k8s.io/api/core/v1"

	"meshops.dev/meshops/validate/index"
)

// ServicePortProtocol follows Istio's protocol selection.
var ServicePortProtocol = catalogued("WL004")

func init() { ServicePortProtocol.Target = servicePortProtocol }

// declaresProtocol reports whether Istio finds a protocol for a Service
// port without sniffing, by istiod's own parser: the name's prefix before
// the first "-", compared without regard to case (HTTP-web is http), UDP
// ports, and well-known TCP ports (SMTP, DNS, MySQL, ...) without a prefix.
func declaresProtocol(p corev1.ServicePort) bool {
	return p.AppProtocol != nil || istiokube.ConvertProtocol(p.Port, p.Name, p.Protocol, nil) != protocol.Unsupported
}

func servicePortProtocol(ix *index.Index, _ *Env) []Finding {
	c := ServicePortProtocol
	var out []Finding
	for _, o := range ix.Kind("Service") {
		svc, ok := decodeService(o)
		if !ok {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if !declaresProtocol(p) {
				out = append(out, c.findingAt(ix, o, []string{"spec", "ports"}, "port %d is named %q, which declares no protocol: name it http (or http-<suffix>, grpc, tcp, ...) or set appProtocol", p.Port, p.Name))
			}
		}
	}
	return out
}
