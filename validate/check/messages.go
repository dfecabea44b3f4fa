package check

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// messagesFile is where the catalogue lives, for error messages.
const messagesFile = "validate/check/messages.yaml"

//go:embed messages.yaml
var messagesYAML string

// Message is one entry of messages.yaml: the texts of one check, by code.
type Message struct {
	Code  string   `yaml:"code"`
	Name  string   `yaml:"name"`
	Level Severity `yaml:"level"`
	// Description is the one condition the code flags.
	Description string `yaml:"description"`
	Summary     string `yaml:"summary"`
	Rationale   string `yaml:"rationale"`
}

// codePattern is the shape of a check code: letters, optionally digits among
// them (K8S), then three digits.
var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*[0-9]{3}$`)

// namePattern is the shape of a check name: kebab-case.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// catalogue is the embedded messages.yaml, parsed once; nothing changes it
// after. Messages hands out copies.
type catalogue struct {
	list   []Message
	byCode map[string]Message
}

var embedded = sync.OnceValues(func() (*catalogue, error) {
	list, err := ParseMessages(messagesFile, []byte(messagesYAML))
	if err != nil {
		return nil, err
	}
	c := &catalogue{list: list, byCode: make(map[string]Message, len(list))}
	for _, m := range list {
		c.byCode[m.Code] = m
	}
	return c, nil
})

// Messages returns a copy of the embedded catalogue (messages.yaml), ordered
// by code, or the reason it does not parse.
func Messages() ([]Message, error) {
	c, err := embedded()
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.list), nil
}

// ParseMessages reads a catalogue: a document whose one key, messages, lists
// entries with exactly the fields of Message. Every entry has a code of the
// form LETTERS+3 digits, a kebab-case name, level error or warning, and a
// non-empty description, summary and rationale; codes and names are unique
// and the entries are ordered by code. An error names file and the line.
func ParseMessages(file string, data []byte) ([]Message, error) {
	// One pass of the YAML parser into nodes, which know their lines, and
	// the entries read from the nodes by hand: yaml.v3's Node.Decode has no
	// KnownFields option (it would drop a misspelt field), and decoding into
	// a Node does not check keys for duplicates, so message does both.
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty: want a messages: list", file)
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, fmt.Errorf("%s:%d: a second YAML document: the catalogue is one document", file, extra.Line)
	case !errors.Is(err, io.EOF):
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty: want a messages: list", file)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with one key, messages", file, top.Line)
	}
	var list *yaml.Node
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch {
		case k.Value != "messages":
			return nil, fmt.Errorf("%s:%d: unknown key %q: the catalogue has one key, messages", file, k.Line, k.Value)
		case list != nil:
			return nil, fmt.Errorf("%s:%d: key messages twice (first at line %d)", file, k.Line, list.Line)
		case v.Tag == "!!null":
			list = v
		case v.Kind != yaml.SequenceNode:
			return nil, fmt.Errorf("%s:%d: messages is a %s, want a list of entries", file, v.Line, kind(v))
		default:
			list = v
		}
	}
	if list == nil || len(list.Content) == 0 {
		return nil, fmt.Errorf("%s: no messages: want a messages: list with one entry per check", file)
	}
	out := make([]Message, 0, len(list.Content))
	codes, names := map[string]int{}, map[string]int{}
	for i, n := range list.Content {
		m, err := message(n)
		if err != nil {
			return nil, fmt.Errorf("%s:%w", file, err)
		}
		line := n.Line
		where := fmt.Sprintf("%s:%d: %s", file, line, m.Code)
		switch {
		case !codePattern.MatchString(m.Code):
			return nil, fmt.Errorf("%s:%d: code %q does not match %s", file, line, m.Code, codePattern)
		case codes[m.Code] != 0:
			return nil, fmt.Errorf("%s: code used twice (first at line %d)", where, codes[m.Code])
		case !namePattern.MatchString(m.Name):
			return nil, fmt.Errorf("%s: name %q is not kebab-case (%s)", where, m.Name, namePattern)
		case names[m.Name] != 0:
			return nil, fmt.Errorf("%s: name %q used twice (first at line %d)", where, m.Name, names[m.Name])
		case m.Level != Error && m.Level != Warning:
			return nil, fmt.Errorf("%s: level %q: want %s or %s", where, m.Level, Error, Warning)
		case strings.TrimSpace(m.Description) == "":
			return nil, fmt.Errorf("%s: no description: say which condition the code flags", where)
		case strings.TrimSpace(m.Summary) == "":
			return nil, fmt.Errorf("%s: no summary", where)
		case strings.TrimSpace(m.Rationale) == "":
			return nil, fmt.Errorf("%s: no rationale", where)
		case i > 0 && out[i-1].Code > m.Code:
			return nil, fmt.Errorf("%s: not ordered by code: it comes after %s", where, out[i-1].Code)
		}
		codes[m.Code], names[m.Name] = line, line
		out = append(out, m)
	}
	return out, nil
}

// message reads one entry: a mapping of string fields, each field of
// Message once. An error starts with the line ("12: ...").
func message(n *yaml.Node) (Message, error) {
	var m Message
	if n.Kind != yaml.MappingNode {
		return m, fmt.Errorf("%d: the entry is a %s, want a mapping of code, name, level, description, summary and rationale", n.Line, kind(n))
	}
	fields := map[string]*string{
		"code": &m.Code, "name": &m.Name, "level": (*string)(&m.Level),
		"description": &m.Description, "summary": &m.Summary, "rationale": &m.Rationale,
	}
	seen := map[string]int{}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field, ok := fields[k.Value]
		switch {
		case !ok || k.Kind != yaml.ScalarNode:
			return m, fmt.Errorf("%d: unknown field %q: want code, name, level, description, summary or rationale", k.Line, k.Value)
		case seen[k.Value] != 0:
			return m, fmt.Errorf("%d: field %s twice (first at line %d)", k.Line, k.Value, seen[k.Value])
		case v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str":
			return m, fmt.Errorf("%d: %s is a %s, want a string", v.Line, k.Value, kind(v))
		}
		seen[k.Value] = k.Line
		*field = v.Value
	}
	return m, nil
}

// kind names what a node is, for an error.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	}
	switch tag := n.ShortTag(); tag {
	case "!!str":
		return "string"
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	default:
		return tag
	}
}

// catalogued returns the check whose name, severity, summary and rationale
// are messages.yaml's entry for code; the caller sets its function. A code
// the catalogue lacks, or a catalogue that does not parse, gives a check with
// only its code and severity Error, so that its findings still fail the run:
// TestMessages names the problem, and CatalogueError stops the commands.
func catalogued(code string) *Check {
	c, err := embedded()
	if err != nil {
		return &Check{Code: code, Severity: Error}
	}
	m, ok := c.byCode[code]
	if !ok {
		return &Check{Code: code, Severity: Error}
	}
	return &Check{Code: code, Name: m.Name, Severity: m.Level, Summary: m.Summary, Rationale: m.Rationale}
}

// CatalogueError reports why the checks in All() do not all have their
// texts: messages.yaml does not parse, or lacks a check's entry, or has an
// entry for a code no check has. nil when they do.
func CatalogueError() error {
	cat, err := embedded()
	if err != nil {
		return err
	}
	inAll := map[string]bool{}
	for _, c := range All() {
		inAll[c.Code] = true
		if _, ok := cat.byCode[c.Code]; !ok {
			return fmt.Errorf("%s: no entry for check %s", messagesFile, c.Code)
		}
	}
	for _, m := range cat.list {
		if !inAll[m.Code] {
			return fmt.Errorf("%s: entry %s is no check of All()", messagesFile, m.Code)
		}
	}
	return nil
}

// yamlLine is how the YAML decoder places an error: "yaml: line 8: ..." for
// a syntax error, "line 8: ..." for each problem of a TypeError.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError states a decoding error of file as file:line: cause, one
// problem after the other on one line.
func yamlError(file string, err error) error {
	problems := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		problems = slices.Clone(te.Errors)
	}
	for i, p := range problems {
		if m := yamlLine.FindStringSubmatch(p); m != nil {
			problems[i] = file + ":" + m[1] + ": " + p[len(m[0]):]
		} else {
			problems[i] = file + ": " + strings.TrimPrefix(p, "yaml: ")
		}
	}
	return errors.New(strings.Join(problems, "; "))
}
