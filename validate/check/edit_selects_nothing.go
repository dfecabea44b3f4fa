package check

import (
	"bytes"
	"fmt"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// EditSelectsNothing reports patches and images: entries that change nothing.
var EditSelectsNothing = catalogued("GO007")

// edit is one patch target or images: entry, and where it is written.
type edit struct {
	file   string
	line   int
	target *types.Selector // a patch
	image  string          // an images: entry's name
	rename string          // its newName
	what   string
}

func editSelectsNothing(ix *index.Index, env *Env) []Finding {
	c := EditSelectsNothing
	tg := ix.Target
	if tg.Kind == render.Cluster || env.Tree == nil {
		return nil
	}
	var edits []edit
	// Names and namespaces the kustomization (with the entry point's
	// options merged into it) sets after its patches run.
	var renames renames
	// The target's own kustomization (for an entry point, the path's).
	if file := render.KustomizationFile(env.Tree, tg.Dir); file != "" {
		if data, err := env.Tree.ReadFile(file); err == nil {
			if k := render.ReadKustomization(env.Tree, file); k != nil {
				renames.add(k.NamePrefix, k.NameSuffix, k.Namespace)
				for i, p := range k.Patches {
					if p.Target != nil {
						edits = append(edits, edit{file: file, line: seqLine(data, 0, []string{"patches"}, i), target: p.Target, what: fmt.Sprintf("patches[%d]", i)})
					}
				}
				for i, img := range k.Images {
					edits = append(edits, edit{file: file, line: seqLine(data, 0, []string{"images"}, i), image: img.Name, rename: img.NewName, what: fmt.Sprintf("images[%d] %q", i, img.Name)})
				}
			}
		}
	}
	if e := tg.Entry; e != nil {
		data, _ := env.Tree.ReadFile(e.File)
		switch {
		case e.Flux != nil:
			renames.add(e.Flux.Spec.NamePrefix, e.Flux.Spec.NameSuffix, e.Flux.Spec.TargetNamespace)
			for i, p := range e.Flux.Spec.Patches {
				if p.Target != nil {
					s := &types.Selector{ResId: resid.ResId{Gvk: resid.Gvk{Group: p.Target.Group, Version: p.Target.Version, Kind: p.Target.Kind},
						Name: p.Target.Name, Namespace: p.Target.Namespace}, LabelSelector: p.Target.LabelSelector, AnnotationSelector: p.Target.AnnotationSelector}
					edits = append(edits, edit{file: e.File, line: seqLine(data, e.Line, []string{"spec", "patches"}, i), target: s, what: fmt.Sprintf("spec.patches[%d]", i)})
				}
			}
			for i, img := range e.Flux.Spec.Images {
				edits = append(edits, edit{file: e.File, line: seqLine(data, e.Line, []string{"spec", "images"}, i), image: img.Name, rename: img.NewName, what: fmt.Sprintf("spec.images[%d] %q", i, img.Name)})
			}
		case e.Argo != nil:
			renames.add(e.Argo.NamePrefix, e.Argo.NameSuffix, e.Argo.Namespace)
			at := append(strings.Split(strings.TrimSuffix(e.PathField, ".path"), "."), "kustomize")
			if e.GeneratedBy != "" {
				at = append([]string{"spec", "template"}, at...)
			}
			for i, p := range e.Argo.Patches {
				t, _ := p["target"].(map[string]any)
				if t == nil {
					continue
				}
				b, _ := yaml.Marshal(t)
				var s types.Selector
				if yaml.Unmarshal(b, &s) != nil {
					continue
				}
				edits = append(edits, edit{file: e.File, line: seqLine(data, e.Line, append(at, "patches"), i), target: &s, what: fmt.Sprintf("%s.kustomize.patches[%d]", strings.TrimSuffix(e.PathField, ".path"), i)})
			}
			for i, img := range e.Argo.Images {
				name, rename, ok := strings.Cut(img, "=")
				if !ok {
					name, rename = imageName(img), ""
				} else {
					rename = imageName(rename)
				}
				edits = append(edits, edit{file: e.File, line: seqLine(data, e.Line, append(at, "images"), i), image: name, rename: rename, what: fmt.Sprintf("%s.kustomize.images[%d] %q", strings.TrimSuffix(e.PathField, ".path"), i, img)})
			}
		}
	}
	if len(edits) == 0 {
		return nil
	}
	images := RenderedImages(ix)
	var out []Finding
	for _, ed := range edits {
		var msg string
		switch {
		case ed.target != nil && !selectsAny(ed.target, ix.Render().Resources.Resources(), renames):
			msg = fmt.Sprintf("%s: its target (%s) selects no resource of this render, so the patch changes nothing", ed.what, describeSelector(ed.target))
		case ed.target == nil && strings.Contains(ed.image, "://") && ed.rename == "":
			continue // it matched and misparsed the registry port: IMG002 says so
		case ed.target == nil && !images[ed.image] && (ed.rename == "" || !images[ed.rename]):
			msg = fmt.Sprintf("%s matches no image of this render (containers, init containers, WasmPlugin urls), so it pins nothing; check the name", ed.what)
		default:
			continue
		}
		out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: tg.ID(), File: ed.file, Line: ed.line, Message: msg})
	}
	return out
}

// RenderedImages returns the names (without tag or digest) of every image
// field and WasmPlugin url the render holds: what an images: entry can match
// (GO007), and what make promote may copy to an environment.
func RenderedImages(ix *index.Index) map[string]bool {
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "image" {
					out[imageName(s)] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, o := range ix.Objects {
		walk(o.Content)
		// Kustomize's image transformer rewrites spec.url as a plain string
		// (base/wasmplugin/kustomizeconfig.yaml), whatever else the spec
		// holds: the generic form, not the typed one, is what it sees.
		if o.Kind == "WasmPlugin" {
			if u := str(o.Spec(), "url"); u != "" {
				out[imageName(u)] = true
			}
		}
	}
	return out
}

// selectsAny reports whether a patch target selects a resource by its
// current or any earlier id (a name prefix or namespace applied after the
// patch), as Kustomize's PatchTransformer matches group, version, kind,
// name, namespace and label and annotation selectors.
func selectsAny(s *types.Selector, resources []*resource.Resource, rn renames) bool {
	re, err := types.NewSelectorRegex(s)
	if err != nil {
		return true // Kustomize reports the bad selector itself
	}
	for _, r := range resources {
		ids := append([]resid.ResId{r.CurId(), r.OrgId()}, r.PrevIds()...)
		idOK := false
		for _, id := range ids {
			name := strings.TrimSuffix(strings.TrimPrefix(id.Name, rn.prefix), rn.suffix)
			if re.MatchGvk(id.Gvk) && (re.MatchName(id.Name) || re.MatchName(name)) && (rn.namespace || re.MatchNamespace(id.Namespace)) {
				idOK = true
				break
			}
		}
		if !idOK {
			continue
		}
		if s.LabelSelector != "" {
			if ok, err := r.MatchesLabelSelector(s.LabelSelector); err != nil || !ok {
				continue
			}
		}
		if s.AnnotationSelector != "" {
			if ok, err := r.MatchesAnnotationSelector(s.AnnotationSelector); err != nil || !ok {
				continue
			}
		}
		return true
	}
	return false
}

// renames is what a kustomization does to names and namespaces after its
// patches: Kustomize runs the patch transformer before the namespace and
// prefix/suffix transformers, and the build output keeps no earlier names.
type renames struct {
	prefix, suffix string
	namespace      bool
}

func (r *renames) add(prefix, suffix, namespace string) {
	r.prefix += prefix
	r.suffix = suffix + r.suffix
	r.namespace = r.namespace || namespace != ""
}

func describeSelector(s *types.Selector) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("group", s.Group)
	add("version", s.Version)
	add("kind", s.Kind)
	add("name", s.Name)
	add("namespace", s.Namespace)
	add("labelSelector", s.LabelSelector)
	add("annotationSelector", s.AnnotationSelector)
	return strings.Join(parts, ", ")
}

// seqLine returns the line of item i of the sequence at keys in the YAML
// document of data that starts at docLine (0: the first document), or the
// document's line when it is not found.
func seqLine(data []byte, docLine int, keys []string, i int) int {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		if dec.Decode(&doc) != nil {
			return docLine
		}
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if docLine != 0 && n.Line != docLine {
			continue
		}
		for _, k := range keys {
			var next *yamlv3.Node
			for j := 0; n.Kind == yamlv3.MappingNode && j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == k {
					next = n.Content[j+1]
				}
			}
			if next == nil {
				return docLine
			}
			n = next
		}
		if n.Kind == yamlv3.SequenceNode && i < len(n.Content) {
			return n.Content[i].Line
		}
		return docLine
	}
}

func init() {
	EditSelectsNothing.Target = editSelectsNothing
}
