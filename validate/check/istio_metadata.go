package check

import (
	"sort"
	"strings"

	"istio.io/api/annotation"
	"istio.io/api/label"

	"meshops.dev/meshops/validate/index"
)

// IstioMetadata catches misspelt Istio annotations and labels.
var IstioMetadata = &Check{
	Code:     "IS003",
	Name:     "istio-metadata-unknown",
	Severity: Error,
	Summary:  "every *.istio.io annotation and label (on objects and pod templates) is one Istio defines",
	Rationale: "Istio ignores an annotation or label it does not know: a misspelt sidecar.istio.io/injectt or " +
		"proxy.istio.io/confg silently does nothing. The list comes from the pinned istio.io/api (istioctl analyze: IST0108).",
}

func init() { IstioMetadata.Target = istioMetadata }

func knownIstioKeys() map[string]bool {
	known := map[string]bool{}
	for _, a := range annotation.AllResourceAnnotations() {
		known[a.Name] = true
	}
	for _, l := range label.AllResourceLabels() {
		known[l.Name] = true
	}
	return known
}

func istioKey(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	return ok && (domain == "istio.io" || strings.HasSuffix(domain, ".istio.io"))
}

func istioMetadata(ix *index.Index, _ *Env) []Finding {
	c := IstioMetadata
	known := knownIstioKeys()
	var out []Finding
	report := func(o *index.Object, where string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			if istioKey(k) && !known[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, c.finding(ix, o, "%s %q is not an Istio annotation or label, so Istio ignores it: check the spelling", where, k))
		}
	}
	for _, o := range ix.Objects {
		report(o, "annotation", o.Annotations())
		report(o, "label", o.Labels())
	}
	for _, w := range ix.Workloads("") {
		if w.Kind != "Pod" {
			report(w.Object, "pod template annotation", w.Template.Annotations)
			report(w.Object, "pod template label", w.Template.Labels)
		}
	}
	return out
}
