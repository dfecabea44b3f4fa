package render

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// FieldSource returns the file to edit to change one field of a rendered
// resource: the patch that sets it (a patch file, or the kustomization that
// holds an inline patch), searched from the target down through its bases,
// or else the file that declared the resource. field is a path of map keys
// ("spec", "pluginConfig").
func (r *Result) FieldSource(res *resource.Resource, field ...string) string {
	t := r.tree
	if file := walkKustomizations(t, r.Target.Dir, func(dir string, k *types.Kustomization) string {
		return patchSetting(t, dir, k, res, field)
	}); file != "" {
		return file
	}
	return r.Source(res)
}

// ImageSource returns the kustomization whose images: list pins image (a
// name without tag or digest, as rendered), searched from the target down,
// or "" if none does.
func (r *Result) ImageSource(image string) string {
	t := r.tree
	return walkKustomizations(t, r.Target.Dir, func(dir string, k *types.Kustomization) string {
		for _, img := range k.Images {
			if img.NewName == image || (img.NewName == "" && img.Name == image) {
				return KustomizationFile(t, dir)
			}
		}
		return ""
	})
}

// ReadKustomization returns kustomization file kfile of t as
// sigs.k8s.io/yaml decodes it, or nil when it cannot be read or decoded. It
// is parsed once per content of the file (Tree.Memo), for every target and
// check that walks it: the caller must not change it.
func ReadKustomization(t *Tree, kfile string) *types.Kustomization {
	k, _ := t.Memo(kfile, "kustomization", func() any {
		data, err := t.ReadFile(kfile)
		if err != nil {
			return (*types.Kustomization)(nil)
		}
		var k types.Kustomization
		if yaml.Unmarshal(data, &k) != nil {
			return (*types.Kustomization)(nil)
		}
		return &k
	}).(*types.Kustomization)
	return k
}

// walkKustomizations visits dir's kustomization and then, depth first, those
// of its resources and components, until visit returns a file.
func walkKustomizations(t *Tree, dir string, visit func(dir string, k *types.Kustomization) string) string {
	seen := map[string]bool{}
	var walk func(dir string) string
	walk = func(dir string) string {
		if seen[dir] {
			return ""
		}
		seen[dir] = true
		k := ReadKustomization(t, KustomizationFile(t, dir))
		if k == nil {
			return ""
		}
		if file := visit(dir, k); file != "" {
			return file
		}
		for _, ref := range append(append([]string{}, k.Resources...), k.Components...) {
			sub := path.Clean(path.Join(dir, ref))
			if !IsRemote(ref) && t.IsDir(sub) {
				if file := walk(sub); file != "" {
					return file
				}
			}
		}
		return ""
	}
	return walk(dir)
}

// patchSetting returns the file of a patch in k that targets res and sets
// field, or "".
func patchSetting(t *Tree, dir string, k *types.Kustomization, res *resource.Resource, field []string) string {
	kfile := KustomizationFile(t, dir)
	//nolint:staticcheck // patchesStrategicMerge is deprecated but still honoured.
	for _, p := range k.PatchesStrategicMerge {
		if file := path.Join(dir, string(p)); t.Exists(file) {
			if data, err := t.ReadFile(file); err == nil && patchSets(data, nil, res, field) {
				return file
			}
		}
	}
	for _, p := range k.Patches {
		switch {
		case p.Path != "":
			file := path.Join(dir, p.Path)
			if data, err := t.ReadFile(file); err == nil && patchSets(data, p.Target, res, field) {
				return file
			}
		case p.Patch != "":
			if patchSets([]byte(p.Patch), p.Target, res, field) {
				return kfile
			}
		}
	}
	return ""
}

// patchSets reports whether a patch (strategic merge documents or a JSON
// 6902 operation list) applies to res and sets field or something inside it.
func patchSets(data []byte, target *types.Selector, res *resource.Resource, field []string) bool {
	if target != nil && !selects(target, res) {
		return false
	}
	var ops []map[string]any
	if yaml.Unmarshal(data, &ops) == nil && len(ops) > 0 {
		for _, op := range ops {
			p, _ := op["path"].(string)
			if pathOverlaps(p, field) {
				return target != nil
			}
		}
		return false
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		var m map[string]any
		if yaml.Unmarshal([]byte(doc), &m) != nil || m == nil {
			continue
		}
		meta, _ := m["metadata"].(map[string]any)
		if target == nil && (m["kind"] != res.GetKind() || meta["name"] != res.GetName()) {
			continue
		}
		var node any = m
		for _, key := range field {
			if _, err := strconv.Atoi(key); err == nil {
				// A strategic merge patch merges lists by key, not by
				// position: a patch of the list sets its elements.
				break
			}
			mm, ok := node.(map[string]any)
			if !ok {
				node = nil
				break
			}
			node = mm[key]
		}
		if node != nil {
			return true
		}
	}
	return false
}

// selects reports whether a patch target selects res, by Kustomize's own
// matching of group, version, kind, name and namespace.
func selects(s *types.Selector, res *resource.Resource) bool {
	re, err := types.NewSelectorRegex(s)
	if err != nil {
		return false
	}
	gvk := res.GetGvk()
	return re.MatchGvk(resid.Gvk{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}) &&
		re.MatchName(res.GetName()) && re.MatchNamespace(res.GetNamespace())
}

// InlinePatchLine returns the line of kfile (a kustomization) holding the
// operation of an inline JSON 6902 patch that targets res and sets field
// (or something inside it, or a parent of it), or 0.
func (r *Result) InlinePatchLine(kfile string, res *resource.Resource, field []string) int {
	data, err := r.tree.ReadFile(kfile)
	k := ReadKustomization(r.tree, kfile)
	if err != nil || k == nil {
		return 0
	}
	starts := InlinePatchLines(data)
	for i, p := range k.Patches {
		if p.Patch == "" || p.Target == nil || !selects(p.Target, res) {
			continue
		}
		start := starts[fmt.Sprintf("patches[%d]", i)]
		if start == 0 {
			continue
		}
		var ops yamlv3.Node
		if yamlv3.Unmarshal([]byte(p.Patch), &ops) != nil || len(ops.Content) == 0 || ops.Content[0].Kind != yamlv3.SequenceNode {
			continue
		}
		for _, op := range ops.Content[0].Content {
			for j := 0; j+1 < len(op.Content); j += 2 {
				if op.Content[j].Value != "path" {
					continue
				}
				if pathOverlaps(op.Content[j+1].Value, field) {
					return start + op.Line
				}
			}
		}
	}
	return 0
}

// pathOverlaps reports whether a JSON patch path (/spec/servers/0/hosts)
// sets field (map keys: spec, servers, hosts), something inside it, or a
// parent of it. List indices are ignored: field names no list element.
func pathOverlaps(pointer string, field []string) bool {
	var keys []string
	for _, k := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if _, err := strconv.Atoi(k); err == nil || k == "-" {
			continue
		}
		keys = append(keys, strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~"))
	}
	var names []string // list indexes of field compare as the pointer's do: not at all
	for _, k := range field {
		if _, err := strconv.Atoi(k); err != nil {
			names = append(names, k)
		}
	}
	field = names
	n := min(len(keys), len(field))
	for i := 0; i < n; i++ {
		if keys[i] != field[i] {
			return false
		}
	}
	return n > 0 || len(field) == 0
}

// InlinePatchLines maps "patches[i]" (and the deprecated fields) to the
// line of the kustomization file just before the inline patch's text: the
// line of a block scalar's indicator (patch: |-), so that line n of the
// patch is that line plus n.
func InlinePatchLines(kdata []byte) map[string]int {
	out := map[string]int{}
	var doc yamlv3.Node
	if yamlv3.Unmarshal(kdata, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		field, list := root.Content[i].Value, root.Content[i+1]
		if list.Kind != yamlv3.SequenceNode {
			continue
		}
		for j, item := range list.Content {
			where := fmt.Sprintf("%s[%d]", field, j)
			switch item.Kind {
			case yamlv3.ScalarNode: // patchesStrategicMerge: an inline patch
				out[where] = scalarStart(item)
			case yamlv3.MappingNode:
				for k := 0; k+1 < len(item.Content); k += 2 {
					if item.Content[k].Value == "patch" {
						out[where] = scalarStart(item.Content[k+1])
					}
				}
			}
		}
	}
	return out
}

// scalarStart is the line before a scalar's first line of text.
func scalarStart(n *yamlv3.Node) int {
	if n.Style&(yamlv3.LiteralStyle|yamlv3.FoldedStyle) != 0 {
		return n.Line // the indicator's line; the text starts on the next
	}
	return n.Line - 1
}
