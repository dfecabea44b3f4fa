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
	// Decode twice: strictly into Message, which reports unknown fields
	// (Node.Decode would not), and into nodes, which know each entry's line.
	var typed struct {
		Messages []Message `yaml:"messages"`
	}
	var nodes struct {
		Messages []yaml.Node `yaml:"messages"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&typed); err != nil {
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
	if err := yaml.Unmarshal(data, &nodes); err != nil || len(nodes.Messages) != len(typed.Messages) {
		return nil, fmt.Errorf("%s: cannot locate the entries: %v", file, err)
	}
	if len(typed.Messages) == 0 {
		return nil, fmt.Errorf("%s: no messages: want a messages: list with one entry per check", file)
	}
	codes, names := map[string]int{}, map[string]int{}
	for i, m := range typed.Messages {
		line := nodes.Messages[i].Line
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
		case i > 0 && typed.Messages[i-1].Code > m.Code:
			return nil, fmt.Errorf("%s: not ordered by code: it comes after %s", where, typed.Messages[i-1].Code)
		}
		codes[m.Code], names[m.Name] = line, line
	}
	return typed.Messages, nil
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
