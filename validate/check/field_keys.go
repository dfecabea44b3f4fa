package check

import (
	"bytes"
	"regexp"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
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
