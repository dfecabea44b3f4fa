// Package renderdiff compares what two versions of the repository render,
// environment by environment and resource by resource.
package renderdiff

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// Change is one leaf field that differs: "spec.replicas 1 -> 2".
type Change struct {
	Path, Old, New string
}

// Resource is one resource that was added, removed or changed.
type Resource struct {
	ID             string // "Deployment blog/blog"
	Old, New       string // rendered YAML, "" when absent
	Changes        []Change
	Added, Removed bool
}

// Env is one environment's differences.
type Env struct {
	Dir       string
	Resources []Resource
	Added     bool // the environment is new
	Removed   bool // the environment is gone
}

// Compare renders what every cluster applies (and every overlay no entry
// point deploys) at base and head, and returns their differences, in order
// of cluster folder.
func Compare(base, head *render.Tree) ([]Env, error) {
	baseRes, err := renderClusters(base)
	if err != nil {
		return nil, err
	}
	headRes, err := renderClusters(head)
	if err != nil {
		return nil, err
	}
	var out []Env
	for _, d := range unionKeys(baseRes, headRes) {
		b, inBase := baseRes[d]
		h, inHead := headRes[d]
		out = append(out, Env{Dir: d, Resources: compareResources(b, h), Added: !inBase, Removed: !inHead})
	}
	return out, nil
}

// renderOverlays renders every overlay of t to its resources' YAML by ID.
func renderOverlays(t *render.Tree) (map[string]map[string]string, error) {
	targets, err := render.Discover(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Dir, err)
	}
	out := map[string]map[string]string{}
	for _, tg := range targets {
		if tg.Kind != render.Overlay {
			continue
		}
		res, err := kustomize.Render(t, tg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Dir, err)
		}
		byID := map[string]string{}
		for _, r := range res.Resources.Resources() {
			id := resourceID(r.GetKind(), r.GetGvk().Group, r.GetNamespace(), r.GetName())
			data, err := r.AsYAML()
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", tg.Dir, id, err)
			}
			byID[id] = string(data)
		}
		out[tg.Dir] = byID
	}
	return out, nil
}

// resourceID names a resource: "Deployment blog/blog", with the API group
// when it is not the kind's usual one ("Gateway.gateway.networking.k8s.io
// blog/blog" beside the Istio "Gateway blog/blog"), so that two kinds of one
// name in two groups are two resources.
func resourceID(kind, group, namespace, name string) string {
	id := kind
	if canonical, _ := index.CanonicalGroup(kind); group != canonical {
		id += "." + group
	}
	if namespace != "" {
		return id + " " + namespace + "/" + name
	}
	return id + " " + name
}

func compareResources(base, head map[string]string) []Resource {
	var out []Resource
	for _, id := range unionKeys(base, head) {
		old, inBase := base[id]
		cur, inHead := head[id]
		if inBase && inHead && old == cur {
			continue
		}
		out = append(out, Resource{ID: id, Old: old, New: cur, Added: !inBase, Removed: !inHead, Changes: fieldChanges(old, cur)})
	}
	return out
}

// fieldChanges lists the leaf fields that differ between two documents.
func fieldChanges(old, cur string) []Change {
	a, b := map[string]string{}, map[string]string{}
	flatten(parse(old), "", a)
	flatten(parse(cur), "", b)
	var out []Change
	for _, p := range unionKeys(a, b) {
		if a[p] != b[p] {
			out = append(out, Change{Path: p, Old: orNone(a[p]), New: orNone(b[p])})
		}
	}
	return out
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func parse(doc string) any {
	var v any
	_ = yaml.Unmarshal([]byte(doc), &v)
	return v
}

func flatten(v any, prefix string, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(x, p, out)
		}
	case []any:
		for i, x := range t {
			flatten(x, prefix+"["+strconv.Itoa(i)+"]", out)
		}
	case nil:
		if prefix != "" {
			out[prefix] = "null"
		}
	default:
		out[prefix] = fmt.Sprint(t)
	}
}

// Write prints each environment's changes (a line per changed field, then a
// unified diff per resource) and a one-line summary per environment.
func Write(w io.Writer, envs []Env) error {
	var b strings.Builder
	for _, e := range envs {
		if len(e.Resources) == 0 {
			continue
		}
		fmt.Fprintf(&b, "=== %s\n", e.Dir)
		for _, r := range e.Resources {
			switch {
			case r.Added:
				fmt.Fprintf(&b, "%s: added\n", r.ID)
			case r.Removed:
				fmt.Fprintf(&b, "%s: removed\n", r.ID)
			default:
				for _, c := range r.Changes {
					fmt.Fprintf(&b, "%s: %s %s -> %s\n", r.ID, c.Path, c.Old, c.New)
				}
			}
		}
		for _, r := range e.Resources {
			text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(r.Old), B: difflib.SplitLines(r.New),
				FromFile: "a/" + e.Dir + ": " + r.ID, ToFile: "b/" + e.Dir + ": " + r.ID, Context: 3,
			})
			b.WriteString(text)
		}
		b.WriteString("\n")
	}
	b.WriteString("Summary:\n")
	for _, e := range envs {
		b.WriteString(summary(e) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summary(e Env) string {
	var added, removed, changed int
	for _, r := range e.Resources {
		switch {
		case r.Added:
			added++
		case r.Removed:
			removed++
		default:
			changed++
		}
	}
	state := ""
	switch {
	case e.Added:
		state = " (new environment)"
	case e.Removed:
		state = " (environment removed)"
	}
	if added+removed+changed == 0 {
		return e.Dir + ": no changes"
	}
	return fmt.Sprintf("%s: %d changed, %d added, %d removed%s", e.Dir, changed, added, removed, state)
}
