package check

import (
	"strings"

	"meshops.dev/meshops/validate/index"
)

// ServicePortProtocol follows Istio's protocol selection.
var ServicePortProtocol = &Check{
	Code:     "WL004",
	Name:     "service-port-protocol",
	Severity: Warning,
	Summary:  "each Service port declares its protocol: a name <protocol>[-suffix] or appProtocol",
	Rationale: "Istio picks a port's protocol from its name or appProtocol; otherwise it sniffs the traffic, which adds " +
		"latency and does not work for server-first protocols, and a port it takes for TCP gets no HTTP routing and no " +
		"HTTP WasmPlugin (istioctl analyze: IST0118).",
}

func init() { ServicePortProtocol.Target = servicePortProtocol }

// protocols are the prefixes Istio recognises in a port name.
var protocols = []string{"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp"}

func declaresProtocol(name string) bool {
	for _, p := range protocols {
		if name == p || strings.HasPrefix(name, p+"-") {
			return true
		}
	}
	return false
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
			if p.AppProtocol == nil && !declaresProtocol(p.Name) {
				out = append(out, c.findingIn(ix, o, ix.FieldSource(o, "spec", "ports"), "port %d is named %q, which declares no protocol: name it http (or http-<suffix>, grpc, tcp, ...) or set appProtocol", p.Port, p.Name))
			}
		}
	}
	return out
}
