package check

import (
	"meshops.dev/meshops/validate/index"
)

// SidecarReach follows WP001 to the pods: a selected pod without an Envoy
// sidecar has nothing to load the plugin into.
var SidecarReach = catalogued("WP002")

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
