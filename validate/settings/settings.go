// Package settings reads validate.yaml, the file at a repository's root where
// a team turns checks off, for the whole repository or for paths:
//
//	checks:
//	  IMG002: off                  # everywhere
//	  WL004:
//	    off: [overlays/dev/**]     # only for findings in these files
//
// Parsing is strict: an unknown key, an unknown code, a value other than off
// or a malformed glob is an error naming the file and the line.
package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is the name of the settings file at the repository's root.
const File = "validate.yaml"

// Off is one check turned off: everywhere when Paths is empty, else for
// findings in files matching one of the globs.
type Off struct {
	Code  string   `json:"code"`
	Paths []string `json:"paths,omitempty"`
	// Line is where validate.yaml turns it off.
	Line int `json:"line"`
}

// Where says where the check is off, for reports.
func (o Off) Where() string {
	if len(o.Paths) == 0 {
		return "everywhere"
	}
	return "in " + strings.Join(o.Paths, ", ")
}

// Settings is a parsed validate.yaml.
type Settings struct {
	Off []Off
}

// Error is a problem in validate.yaml, at a line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", File, e.Line, e.Msg) }

// Parse reads validate.yaml. known reports whether a check code exists;
// codes in canNotBeOff (a crash, say) are refused.
func Parse(data []byte, known func(code string) bool, canNotBeOff ...string) (*Settings, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Settings{}, nil
		}
		return nil, &Error{lineOf(err), "not YAML: " + err.Error()}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{extra.Line, "one document expected"}
	}
	if len(doc.Content) == 0 {
		return &Settings{}, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &Settings{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{root.Line, "a mapping with the key checks expected"}
	}
	s := &Settings{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "checks" {
			return nil, &Error{k.Line, fmt.Sprintf("unknown key %q (want checks)", k.Value)}
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return nil, &Error{v.Line, "checks: a mapping of check codes expected"}
		}
		seen := map[string]bool{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ck, cv := v.Content[j], v.Content[j+1]
			code := ck.Value
			switch {
			case !known(code):
				return nil, &Error{ck.Line, fmt.Sprintf("unknown check %q (go run ./validate --list-checks lists them)", code)}
			case seen[code]:
				return nil, &Error{ck.Line, fmt.Sprintf("check %s is listed twice", code)}
			}
			for _, no := range canNotBeOff {
				if code == no {
					return nil, &Error{ck.Line, fmt.Sprintf("check %s cannot be turned off", code)}
				}
			}
			seen[code] = true
			off, err := parseOff(code, cv)
			if err != nil {
				return nil, err
			}
			off.Line = ck.Line
			s.Off = append(s.Off, off)
		}
	}
	sort.Slice(s.Off, func(i, j int) bool { return s.Off[i].Code < s.Off[j].Code })
	return s, nil
}

func parseOff(code string, n *yaml.Node) (Off, error) {
	off := Off{Code: code}
	if n.Kind == yaml.ScalarNode {
		if n.Value != "off" {
			return off, &Error{n.Line, fmt.Sprintf("%s: %q: the value is off, or a mapping {off: [paths]}", code, n.Value)}
		}
		return off, nil
	}
	if n.Kind != yaml.MappingNode {
		return off, &Error{n.Line, fmt.Sprintf("%s: the value is off, or a mapping {off: [paths]}", code)}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "off" {
			return off, &Error{k.Line, fmt.Sprintf("%s: unknown key %q (want off)", code, k.Value)}
		}
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return off, &Error{v.Line, fmt.Sprintf("%s: off: a non-empty list of path globs expected", code)}
		}
		for _, p := range v.Content {
			if p.Kind != yaml.ScalarNode || p.Value == "" {
				return off, &Error{p.Line, fmt.Sprintf("%s: a path glob expected", code)}
			}
			if err := checkGlob(p.Value); err != nil {
				return off, &Error{p.Line, fmt.Sprintf("%s: path %q: %v", code, p.Value, err)}
			}
			off.Paths = append(off.Paths, p.Value)
		}
	}
	if len(off.Paths) == 0 {
		return off, &Error{n.Line, fmt.Sprintf("%s: off: a non-empty list of path globs expected", code)}
	}
	return off, nil
}

func checkGlob(g string) error {
	if strings.HasPrefix(g, "/") || strings.HasPrefix(g, "./") || strings.Contains(g, "\\") {
		return errors.New("a path relative to the repository's root, with /, expected")
	}
	for _, seg := range strings.Split(g, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return err
		}
	}
	return nil
}

// Match reports whether a repository path matches glob: path.Match per
// segment, where ** matches any number of segments and a glob naming a
// directory matches everything below it.
func Match(glob, file string) bool {
	return matchSegments(strings.Split(glob, "/"), strings.Split(file, "/"))
}

func matchSegments(g, f []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(f); i++ {
				if matchSegments(g[1:], f[i:]) {
					return true
				}
			}
			return false
		}
		if len(f) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], f[0]); !ok {
			return false
		}
		g, f = g[1:], f[1:]
	}
	return true // a directory glob covers what is below it
}

// Silenced reports whether the check code is off for a finding in file,
// and the entry that turns it off.
func (s *Settings) Silenced(code, file string) (Off, bool) {
	if s == nil {
		return Off{}, false
	}
	for _, o := range s.Off {
		if o.Code != code {
			continue
		}
		if len(o.Paths) == 0 {
			return o, true
		}
		for _, g := range o.Paths {
			if Match(g, file) {
				return o, true
			}
		}
	}
	return Off{}, false
}

func lineOf(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		n := 0
		for _, r := range msg[i+5:] {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		return n
	}
	return 0
}
