package check

import (
	corev1 "k8s.io/api/core/v1"

	"meshops.dev/meshops/validate/index"
)

// RequestsWithinLimits catches what the API server's pod validation rejects.
var RequestsWithinLimits = catalogued("K8S003")

func init() { RequestsWithinLimits.Target = requestsWithinLimits }

func requestsWithinLimits(ix *index.Index, _ *Env) []Finding {
	c := RequestsWithinLimits
	var out []Finding
	for _, w := range ix.Workloads("") {
		for _, ctr := range containers(w.Template.Spec) {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := ctr.Resources.Requests[name]
				lim, hasLim := ctr.Resources.Limits[name]
				if hasReq && hasLim && req.Cmp(lim) > 0 {
					out = append(out, c.findingAt(ix, w.Object, []string{"spec", "template", "spec", "containers"}, "container %q requests %s %s, more than its limit %s: the API server rejects it", ctr.Name, name, req.String(), lim.String()))
				}
			}
		}
	}
	return out
}
