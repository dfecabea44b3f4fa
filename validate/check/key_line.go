package check

import (
	"bytes"

	yamlv3 "go.yaml.in/yaml/v3"
)

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
