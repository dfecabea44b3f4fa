package check

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	"meshops.dev/meshops/validate/index"
)

// subscripts matches a field path's list indices and map keys: "[0]",
// "[app.kubernetes.io/name]".
var subscripts = regexp.MustCompile(`\[[^\]]*\]`)

// errorKeys returns the map keys of a field path as apimachinery's
// field.Path prints it ("spec.template.spec.containers[0].imagePullPolicy"):
// spec, template, spec, containers, imagePullPolicy. findingAt looks a key
// under a list up in its first item that has it.
func errorKeys(path string) []string {
	var keys []string
	for _, part := range strings.Split(subscripts.ReplaceAllString(path, ""), ".") {
		if part != "" {
			keys = append(keys, part)
		}
	}
	return keys
}

// keyLine returns the line of the deepest of keys (a path of map keys) in
// the YAML document of data that starts at docLine (0: the first
// document), or docLine when the document or its first key is missing.
func keyLine(data []byte, docLine int, keys ...string) int {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		if dec.Decode(&doc) != nil {
			return docLine
		}
		if len(doc.Content) == 0 || (docLine != 0 && doc.Content[0].Line != docLine) {
			continue
		}
		line, n := docLine, doc.Content[0]
		for _, k := range keys {
			var next *yamlv3.Node
			for j := 0; n.Kind == yamlv3.MappingNode && j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == k {
					line, next = n.Content[j].Line, n.Content[j+1]
				}
			}
			if next == nil {
				break
			}
			n = next
		}
		return line
	}
}

// pathSegment matches one step of a field path: a key, optionally followed
// by list indices or map keys in brackets.
var pathSegment = regexp.MustCompile(`([^.\[\]]+)|\[([^\]]*)\]`)

// findingAtField is findingAt for a field path as apimachinery prints it,
// list indices included: in the file that declares o it names the line of
// that very item's field (containers[1].name, not the first container's);
// in a patch, whose lists need not line up with the rendered ones, the line
// findingAt finds by keys.
func (c *Check) findingAtField(ix *index.Index, o *index.Object, path, format string, args ...any) Finding {
	f := c.findingAt(ix, o, errorKeys(path), format, args...)
	if f.File != o.Source || ix.Render() == nil || ix.Render().Tree() == nil {
		return f
	}
	data, err := ix.Render().Tree().ReadFile(f.File)
	if err != nil {
		return f
	}
	if line := indexedLine(data, ix.Line(f.File, o), path); line > 0 {
		f.Line = line
	}
	return f
}

// indexedLine walks path (keys, [index] and [key] steps) through the YAML
// document of data that starts at docLine and returns the line of the
// deepest step found, or 0 when the document is not there or the path
// leaves it at once.
func indexedLine(data []byte, docLine int, path string) int {
	if docLine == 0 {
		return 0
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		if dec.Decode(&doc) != nil {
			return 0
		}
		if len(doc.Content) == 0 || doc.Content[0].Line != docLine {
			continue
		}
		n, line := doc.Content[0], 0
		for _, m := range pathSegment.FindAllStringSubmatch(path, -1) {
			key, sub := m[1], m[2]
			var next *yamlv3.Node
			switch {
			case key != "" && n.Kind == yamlv3.MappingNode:
				for j := 0; j+1 < len(n.Content); j += 2 {
					if n.Content[j].Value == key {
						line, next = n.Content[j].Line, n.Content[j+1]
					}
				}
			case key == "" && n.Kind == yamlv3.SequenceNode:
				if i, err := strconv.Atoi(sub); err == nil && i >= 0 && i < len(n.Content) {
					next = n.Content[i]
					line = next.Line
				}
			case key == "" && n.Kind == yamlv3.MappingNode:
				for j := 0; j+1 < len(n.Content); j += 2 {
					if n.Content[j].Value == sub {
						line, next = n.Content[j].Line, n.Content[j+1]
					}
				}
			}
			if next == nil {
				break
			}
			n = next
		}
		return line
	}
}
