package check

import (
	"sort"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// str, mapOf and listOf read a generic object without panicking on types
// the schema check reports separately.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func mapOf(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

func listOf(m map[string]any, key string) []any {
	v, _ := m[key].([]any)
	return v
}

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// subset reports whether every selector label is in labels.
func subset(selector, labels map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// formatLabels prints labels in a stable order: "app: blog, tier: web".
func formatLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + m[k]
	}
	return strings.Join(parts, ", ")
}

// closest returns the workload sharing the most selector labels, with the
// first label that differs ("app: blgo vs app: blog" or "tier: web is missing").
func closest(selector map[string]string, workloads []index.Workload) (index.Workload, string, bool) {
	best, bestScore := -1, -1
	for i, w := range workloads {
		score := 0
		for k, v := range selector {
			if w.Template.Labels[k] == v {
				score += 2
			} else if _, ok := w.Template.Labels[k]; ok {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return index.Workload{}, "", false
	}
	w := workloads[best]
	keys := make([]string, 0, len(selector))
	for k := range selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := w.Template.Labels[k]
		switch {
		case !ok:
			return w, k + ": " + selector[k] + " is not among its pod labels (" + formatLabels(w.Template.Labels) + ")", true
		case got != selector[k]:
			return w, k + ": " + selector[k] + " vs " + k + ": " + got, true
		}
	}
	return w, "", true
}
