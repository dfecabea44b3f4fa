package check

import (
	"meshops.dev/meshops/validate/index"
)

// SidecarReach follows WP001 to the pods: a selected pod without an Envoy
// sidecar has nothing to load the plugin into.
var SidecarReach = &Check{
	Code:     "WP002",
	Name:     "wasmplugin-workload-without-sidecar",
	Severity: Error,
	Summary:  "the workloads a WasmPlugin selects must run an Envoy sidecar",
	Rationale: "A WasmPlugin runs inside Envoy. A selected pod runs a sidecar only if its namespace has istio-injection=enabled " +
		"or an istio.io/rev label, or its pod template sets sidecar.istio.io/inject: \"true\", and neither opts out " +
		"(istio-injection=disabled, sidecar.istio.io/inject: \"false\"). Otherwise the plugin never runs for that workload.",
}

func init() { SidecarReach.Target = sidecarReach }

const injectKey = "sidecar.istio.io/inject"

// sidecarReason returns why w runs no sidecar and the object to fix (the
// Namespace or the workload), or "" if it runs one.
func sidecarReason(ix *index.Index, w index.Workload) (string, *index.Object, []string) {
	pod, podField := w.Template.Labels[injectKey], "labels"
	if pod == "" {
		pod, podField = w.Template.Annotations[injectKey], "annotations" // the older, annotation form
	}
	if pod == "false" {
		return "its pod template sets " + injectKey + ": \"false\"; remove it", w.Object, []string{"spec", "template", "metadata", podField, injectKey}
	}
	ns := ix.Namespace(w.Namespace)
	var nsLabels map[string]string
	if ns != nil {
		nsLabels = ns.Labels()
	}
	if nsLabels["istio-injection"] == "disabled" {
		return "namespace " + w.Namespace + " has istio-injection=disabled; set it to enabled", ns, []string{"metadata", "labels", "istio-injection"}
	}
	if pod == "true" || nsLabels["istio-injection"] == "enabled" || nsLabels["istio.io/rev"] != "" {
		return "", nil, nil
	}
	if ns == nil {
		return "namespace " + w.Namespace + " is not rendered in this overlay, so nothing enables injection; set " + injectKey + ": \"true\" on the pod template or deploy the namespace with istio-injection=enabled", w.Object, []string{"spec", "template", "metadata"}
	}
	return "namespace " + w.Namespace + " has neither istio-injection=enabled nor an istio.io/rev label; add istio-injection: enabled", ns, []string{"metadata", "labels"}
}

func sidecarReach(ix *index.Index, env *Env) []Finding {
	c := SidecarReach
	var out []Finding
	for _, o := range ix.Kind("WasmPlugin") {
		_, matched, _, ok := selectedWorkloads(ix, env, o)
		if !ok {
			continue
		}
		for _, w := range matched {
			if why, culprit, field := sidecarReason(ix, w); why != "" {
				out = append(out, c.findingAt(ix, culprit, field, "%s selects %s, which runs no Envoy sidecar, so the plugin never runs there: %s", o.String(), w.String(), why))
			}
		}
	}
	return out
}
