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
	Rationale: "A WasmPlugin runs inside Envoy. Injection is decided as Istio's installation decides it: the webhook istiod's " +
		"chart installs per revision selects a pod when its namespace has istio-injection=enabled or an istio.io/rev label of an " +
		"installed revision (platform.yaml), or, in an unlabelled namespace, when the pod template has the *label* " +
		"sidecar.istio.io/inject: \"true\" or istio.io/rev; then sidecar.istio.io/inject: \"false\" (label, else annotation), hostNetwork " +
		"or a system namespace opt out. Ambient namespaces run no sidecar. Otherwise the plugin never runs for that workload " +
		"(an annotation-only request is WP010).",
}

func init() { SidecarReach.Target = sidecarReach }

const injectKey = "sidecar.istio.io/inject"

// sidecarField is the field a finding about w's missing sidecar points at:
// the namespace's injection label when the namespace decides, else the pod
// template's sidecar.istio.io/inject label or annotation, else its metadata.
func sidecarField(ix *index.Index, w index.Workload, onNamespace bool) (*index.Object, []string) {
	if ns := ix.Namespace(w.Namespace); onNamespace && ns != nil {
		if _, ok := ns.Labels()["istio-injection"]; ok {
			return ns, []string{"metadata", "labels", "istio-injection"}
		}
		return ns, []string{"metadata", "labels"}
	}
	if _, ok := w.Template.Labels[injectKey]; ok {
		return w.Object, []string{"spec", "template", "metadata", "labels", injectKey}
	}
	if _, ok := w.Template.Annotations[injectKey]; ok {
		return w.Object, []string{"spec", "template", "metadata", "annotations", injectKey}
	}
	return w.Object, []string{"spec", "template", "metadata"}
}

func sidecarReach(ix *index.Index, env *Env) []Finding {
	c := SidecarReach
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o := p.Object
		_, matched, _, ok := selectedWorkloads(ix, env, p)
		if !ok {
			continue
		}
		for _, w := range matched {
			inj := injectionOf(ix, env, w)
			if inj.Sidecar || inj.AnnotationOnly {
				continue
			}
			culprit, field := sidecarField(ix, w, inj.OnNamespace)
			out = append(out, c.findingAt(ix, culprit, field, "%s selects %s, which runs no Envoy sidecar, so the plugin never runs there: %s; %s",
				o.String(), w.String(), inj.Why, inj.Fix))
		}
	}
	return out
}
