package kustomize

import (
	"fmt"
	"path"
	"slices"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// Transformer is an entry of a kustomization that changes every resource it
// builds, or other resources' fields, rather than declaring one: namePrefix,
// nameSuffix, namespace, commonLabels, an entry of labels or of
// replacements. A finding it causes (a route naming a Service the prefix
// renamed) is on a resource from a base file; the line to edit is the
// transformer's.
type Transformer struct {
	File  string // the kustomization file
	Field string // "namePrefix", "labels[0]", "replacements[1]"
	Line  int
	key   string
	index int // the entry of a list field, -1 for the others
}

// transformerFields are the kustomization fields Transformers reports.
var transformerFields = []string{"namePrefix", "nameSuffix", "namespace", "commonLabels", "labels", "replacements"}

// Transformers lists the transformers dir's kustomization sets, with their
// lines, in file order. A directory without a kustomization file, or one that
// does not parse (its render reports it), has none.
func Transformers(t *render.Tree, dir string) []Transformer {
	file := render.KustomizationFile(t, dir)
	if file == "" {
		return nil
	}
	data, err := t.ReadFile(file)
	if err != nil {
		return nil
	}
	var doc yamlv3.Node
	if yamlv3.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yamlv3.MappingNode {
		return nil
	}
	var out []Transformer
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		if !slices.Contains(transformerFields, key.Value) {
			continue
		}
		switch {
		case value.Kind == yamlv3.SequenceNode && (key.Value == "labels" || key.Value == "replacements"):
			for j, item := range value.Content {
				out = append(out, Transformer{File: file, Field: fmt.Sprintf("%s[%d]", key.Value, j), Line: item.Line, key: key.Value, index: j})
			}
		case value.Kind == yamlv3.ScalarNode && value.Value == "":
			// namePrefix: "" changes nothing
		default:
			out = append(out, Transformer{File: file, Field: key.Value, Line: key.Line, key: key.Value, index: -1})
		}
	}
	return out
}

// PrepareWithout prepares the build of dir with the Kustomize CLI's rules
// but without one of its transformers: a copy of dir beside it whose
// kustomization leaves tr out. A finding that build does not have, tr causes.
// It writes to the tree: call it before any build starts.
func PrepareWithout(t *render.Tree, dir string, tr Transformer, n int) (render.Target, error) {
	tg := render.Target{Kind: render.Overlay, Dir: dir, Without: tr.Field}
	fail := func(err error) (render.Target, error) { return tg, &render.Error{Target: tg, Err: err} }
	data, err := t.ReadFile(tr.File)
	if err != nil {
		return fail(err)
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return fail(err)
	}
	switch tr.key {
	case "namePrefix":
		k.NamePrefix = ""
	case "nameSuffix":
		k.NameSuffix = ""
	case "namespace":
		k.Namespace = ""
	case "commonLabels":
		k.CommonLabels = nil //nolint:staticcheck // deprecated but still honoured
	case "labels":
		if tr.index < len(k.Labels) {
			k.Labels = slices.Delete(k.Labels, tr.index, tr.index+1)
		}
	case "replacements":
		if tr.index < len(k.Replacements) {
			k.Replacements = slices.Delete(k.Replacements, tr.index, tr.index+1)
		}
	}
	k.BuildMetadata = append(k.BuildMetadata, types.OriginAnnotations)
	out, err := yaml.Marshal(k)
	if err != nil {
		return fail(err)
	}
	if tg.BuildDir, err = t.Shadow(dir, "without", n, path.Base(tr.File), out); err != nil {
		return fail(err)
	}
	custom, err := CheckSources(t, tg.BuildDir)
	tg.SetCustomSchema(custom)
	if err != nil {
		return fail(err)
	}
	return tg, nil
}
