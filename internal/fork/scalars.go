package fork

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// region is the source text of one scalar value: [start, end) of the file.
type region struct {
	start, end int
	line       int // 1-based line of start
}

// documents parses every YAML document of a file.
func documents(file string, src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		docs = append(docs, &doc)
	}
}

// valueRegions returns the source text of every scalar value of the
// documents (mapping keys and comments excluded): a single-line plain or
// quoted scalar's token, and a block scalar's (| or >) content lines, such as
// the JSON patch an overlay writes inline. Scalars it cannot locate exactly
// (a multi-line flow scalar) are left out.
func valueRegions(src []byte, docs []*yaml.Node) []region {
	var out []region
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.ScalarNode:
			if r, ok := locate(src, n); ok {
				out = append(out, r)
			}
		}
	}
	for _, d := range docs {
		walk(d)
	}
	return out
}

func lineStart(src []byte, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return off
}

func lineEnd(src []byte, start int) int {
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		return start + i
	}
	return len(src)
}

func indentation(line []byte) int {
	return len(line) - len(bytes.TrimLeft(line, " "))
}

func locate(src []byte, n *yaml.Node) (region, bool) {
	if n.Line == 0 {
		return region{}, false
	}
	start := lineStart(src, n.Line) + n.Column - 1
	if start >= len(src) {
		return region{}, false
	}
	eol := lineEnd(src, start)
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The content starts on the next line and runs while lines are blank
		// or indented at least as much as its first non-blank line.
		first := eol + 1
		if first > len(src) {
			return region{}, false
		}
		content, end := -1, first
		for off := first; off < len(src); {
			e := lineEnd(src, off)
			line := src[off:e]
			if len(bytes.TrimSpace(line)) > 0 {
				ind := indentation(line)
				if content < 0 {
					content = ind
				}
				if ind < content {
					break
				}
				end = e
			}
			off = e + 1
		}
		if content < 0 {
			return region{}, false
		}
		return region{start: first, end: end, line: n.Line + 1}, true
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := src[start]
		for i := start + 1; i < eol; i++ {
			if src[i] == '\\' && q == '"' {
				i++
				continue
			}
			if src[i] == q {
				if q == '\'' && i+1 < eol && src[i+1] == '\'' {
					i++
					continue
				}
				return region{start: start + 1, end: i, line: n.Line}, true
			}
		}
		return region{}, false
	default:
		end := start + len(n.Value)
		if end > eol || string(src[start:end]) != n.Value || strings.Contains(n.Value, "\n") {
			return region{}, false
		}
		return region{start: start, end: end, line: n.Line}, true
	}
}
