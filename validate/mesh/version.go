// Package mesh asks istiod's own code about one rendered target: it starts
// pilot's in-memory discovery server (istio.io/istio/pilot/test/xds) with the
// target's Istio resources, Namespaces, Services and one Running Pod per
// workload (sidecar injection decided by the webhook's rules), then reads
// what istiod would push: each workload's listeners and the Wasm filters in
// them (ECDS), and, through pilot/pkg/simulation, where a request to each
// Gateway host goes at the declared ingress gateways.
package mesh

import (
	"runtime/debug"
)

// Version is the Istio release whose istiod code this package runs: the
// VERSION file of the pinned istio.io/istio commit (TestVersionMatchesModule
// keeps the two equal).
const Version = "1.31"

// Modules returns the pinned versions of istio.io/istio and istio.io/api the
// running binary was built with, for --version and reports ("" when the build
// carries no module information).
func Modules() (istio, api string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, d := range info.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		switch d.Path {
		case "istio.io/istio":
			istio = v
		case "istio.io/api":
			api = v
		}
	}
	return istio, api
}

// Describe is the one line every report prints: which Istio the answers are
// istiod's answers for.
func Describe() string {
	istio, api := Modules()
	s := "Istio " + Version
	if istio != "" {
		s += " (istio.io/istio " + istio
		if api != "" {
			s += ", istio.io/api " + api
		}
		s += ")"
	}
	return s
}
