package helm

import (
	"bytes"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// FieldLine returns the line, in a YAML file, of the field at path (map
// keys; a number indexes a list) of the document that starts at docLine,
// or 0 when the document or the field is not there.
func FieldLine(data []byte, docLine int, path ...string) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return 0
		}
		if len(doc.Content) == 0 || doc.Content[0].Line != docLine {
			continue
		}
		cur := doc.Content[0]
		line := 0
		for _, key := range path {
			if i, err := strconv.Atoi(key); err == nil {
				if cur.Kind != yaml.SequenceNode || i < 0 || i >= len(cur.Content) {
					return 0
				}
				cur = cur.Content[i]
				line = cur.Line
				continue
			}
			if cur.Kind != yaml.MappingNode {
				return 0
			}
			var next *yaml.Node
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if cur.Content[j].Value == key {
					line, next = cur.Content[j].Line, cur.Content[j+1]
				}
			}
			if next == nil {
				return 0
			}
			cur = next
		}
		return line
	}
}

// DocumentLine returns the line where the document of a YAML file that
// declares kind and name (metadata.name) starts, or 0.
func DocumentLine(data []byte, kind, name string) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return 0
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		var k, n string
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch m.Content[i].Value {
			case "kind":
				k = m.Content[i+1].Value
			case "metadata":
				meta := m.Content[i+1]
				for j := 0; j+1 < len(meta.Content); j += 2 {
					if meta.Content[j].Value == "name" {
						n = meta.Content[j+1].Value
					}
				}
			}
		}
		if k == kind && n == name {
			return m.Line
		}
	}
}
