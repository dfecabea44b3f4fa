package check

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"istio.io/api/annotation"
	"istio.io/api/label"

	"meshops.dev/meshops/validate/index"
)

// IstioMetadata catches misspelt Istio annotations and labels.
var IstioMetadata = catalogued("IS003")

func init() { IstioMetadata.Target = istioMetadata }

// knownIstioKeys maps every Istio annotation and label to the kinds it
// applies to ("Any" for all), built once from istio.io/api.
var knownIstioKeys = sync.OnceValues(func() (annotations, labels map[string][]string) {
	annotations, labels = map[string][]string{}, map[string][]string{}
	for _, a := range annotation.AllResourceAnnotations() {
		for _, r := range a.Resources {
			annotations[a.Name] = append(annotations[a.Name], r.String())
		}
	}
	for _, l := range label.AllResourceLabels() {
		for _, r := range l.Resources {
			labels[l.Name] = append(labels[l.Name], r.String())
		}
	}
	return annotations, labels
})

func istioKey(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	return ok && (domain == "istio.io" || strings.HasSuffix(domain, ".istio.io"))
}

func istioMetadata(ix *index.Index, _ *Env) []Finding {
	c := IstioMetadata
	annotations, labels := knownIstioKeys()
	var out []Finding
	report := func(o *index.Object, kind, what, where string, m map[string]string, known map[string][]string, at ...string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			if istioKey(k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			kinds, ok := known[k]
			switch {
			case !ok:
				out = append(out, c.findingAt(ix, o, append(at, what+"s", k), "%s %q is not an Istio %s, so Istio ignores it: check the spelling", where, k, what))
			case len(kinds) > 0 && !slices.Contains(kinds, "Any") && !slices.Contains(kinds, kind):
				hint := ""
				if slices.Contains(kinds, "Pod") && kind != "Pod" {
					hint = "; move it to spec.template.metadata." + what + "s"
				}
				out = append(out, c.findingAt(ix, o, append(at, what+"s", k), "%s %q applies to %s, not %s, so Istio ignores it here%s", where, k, strings.Join(kinds, ", "), kind, hint))
			}
		}
	}
	for _, o := range ix.Objects {
		report(o, o.Kind, "annotation", "annotation", o.Annotations(), annotations, "metadata")
		report(o, o.Kind, "label", "label", o.Labels(), labels, "metadata")
	}
	for _, w := range ix.Workloads("") {
		if w.Kind != "Pod" {
			report(w.Object, "Pod", "annotation", "pod template annotation", w.Template.Annotations, annotations, "spec", "template", "metadata")
			report(w.Object, "Pod", "label", "pod template label", w.Template.Labels, labels, "spec", "template", "metadata")
		}
	}
	return out
}
