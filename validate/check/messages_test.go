package check_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/check"
)

// TestMessages holds the embedded catalogue (messages.yaml) to its rules and
// to All(): one entry per check, each check's texts the entry's.
func TestMessages(t *testing.T) {
	msgs, err := check.Messages()
	if err != nil {
		t.Fatalf("messages.yaml does not parse: %v", err)
	}
	if err := check.CatalogueError(); err != nil {
		t.Errorf("CatalogueError: %v", err)
	}
	code := regexp.MustCompile(`^[A-Z][A-Z0-9]*[0-9]{3}$`)
	byCode, names := map[string]check.Message{}, map[string]bool{}
	for i, m := range msgs {
		if !code.MatchString(m.Code) {
			t.Errorf("%s: code is not LETTERS+3 digits", m.Code)
		}
		if _, dup := byCode[m.Code]; dup {
			t.Errorf("%s: code used twice", m.Code)
		}
		if names[m.Name] || m.Name == "" {
			t.Errorf("%s: name %q empty or used twice", m.Code, m.Name)
		}
		byCode[m.Code], names[m.Name] = m, true
		if m.Level != check.Error && m.Level != check.Warning {
			t.Errorf("%s: level %q", m.Code, m.Level)
		}
		for field, text := range map[string]string{"description": m.Description, "summary": m.Summary, "rationale": m.Rationale} {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: empty %s", m.Code, field)
			}
		}
		if i > 0 && msgs[i-1].Code >= m.Code {
			t.Errorf("%s: not ordered by code (after %s)", m.Code, msgs[i-1].Code)
		}
	}
	inAll := map[string]bool{}
	for _, c := range check.All() {
		inAll[c.Code] = true
		m, ok := byCode[c.Code]
		if !ok {
			t.Errorf("%s (%s): no entry in messages.yaml", c.Code, c.Name)
			continue
		}
		got := check.Message{Code: c.Code, Name: c.Name, Level: c.Severity, Description: m.Description, Summary: c.Summary, Rationale: c.Rationale}
		if got != m {
			t.Errorf("%s: the check's texts differ from its entry:\ncheck %+v\nentry %+v", c.Code, got, m)
		}
		if fns := btoi(c.Target != nil) + btoi(c.Repo != nil); fns == 0 && !emitted[c.Code] {
			t.Errorf("%s: has no function and is not reported by the pipeline", c.Code)
		}
	}
	for _, m := range msgs {
		if !inAll[m.Code] {
			t.Errorf("%s (%s): entry of messages.yaml that is no check of All()", m.Code, m.Name)
		}
	}
	for c := range emitted {
		if _, ok := byCode[c]; !ok {
			t.Errorf("%s: the pipeline reports it, messages.yaml has no entry", c)
		}
	}
}

// TestMessagesIsACopy: what Messages returns is the caller's to change.
func TestMessagesIsACopy(t *testing.T) {
	first, err := check.Messages()
	if err != nil {
		t.Fatal(err)
	}
	want := first[0]
	first[0].Summary, first[0].Level = "changed", "changed"
	again, err := check.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if again[0] != want {
		t.Errorf("a change to one copy shows in the next: %+v", again[0])
	}
	for _, c := range check.All() {
		if c.Code == want.Code && (c.Summary != want.Summary || c.Severity != want.Level) {
			t.Errorf("a change to Messages' copy reached check %s: %+v", c.Code, c)
		}
	}
}

func TestParseMessages(t *testing.T) {
	file := filepath.Join("testdata", "messages", "valid.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := check.ParseMessages(file, data)
	if err != nil {
		t.Fatal(err)
	}
	want := []check.Message{
		{Code: "AB001", Name: "first-check", Level: check.Error, Description: "A thing is wrong.", Summary: "every thing is right", Rationale: "Wrong things break clusters."},
		{Code: "K8S002", Name: "second-check", Level: check.Warning, Description: "Another thing is odd.", Summary: "no thing is odd", Rationale: "Odd things confuse people."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestParseMessagesRejects: each malformed catalogue gives one error naming
// the file, the line and the cause.
func TestParseMessagesRejects(t *testing.T) {
	tests := map[string]string{
		"syntax":         ":8: found character that cannot start any token",
		"unknown-field":  `:8: unknown field "severity": want code, name, level, description, summary or rationale`,
		"duplicate-key":  ":8: field name twice (first at line 3)",
		"scalar-entry":   ":2: the entry is a string, want a mapping of code, name, level, description, summary and rationale",
		"number-field":   ":2: code is a number, want a string",
		"unknown-key":    `:1: unknown key "checks": the catalogue has one key, messages`,
		"list-document":  ":1: want a mapping with one key, messages",
		"messages-map":   ":2: messages is a mapping, want a list of entries",
		"two-documents":  ":8: a second YAML document: the catalogue is one document",
		"empty":          ": empty: want a messages: list",
		"no-messages":    ": no messages: want a messages: list with one entry per check",
		"bad-code":       `:2: code "ab001" does not match ^[A-Z][A-Z0-9]*[0-9]{3}$`,
		"duplicate-code": ":8: AB001: code used twice (first at line 2)",
		"bad-name":       `:2: AB001: name "First_Check" is not kebab-case (^[a-z][a-z0-9]*(-[a-z0-9]+)*$)`,
		"duplicate-name": `:8: AB002: name "first-check" used twice (first at line 2)`,
		"bad-level":      `:2: AB001: level "info": want error or warning`,
		"no-description": ":2: AB001: no description: say which condition the code flags",
		"no-summary":     ":2: AB001: no summary",
		"no-rationale":   ":2: AB001: no rationale",
		"unordered":      ":8: AB001: not ordered by code: it comes after AB002",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", "messages", name+".yaml")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := check.ParseMessages(file, data)
			if err == nil {
				t.Fatalf("no error; parsed %+v", got)
			}
			if err.Error() != file+want {
				t.Errorf("error %q\nwant  %q", err, file+want)
			}
			if got != nil {
				t.Errorf("an error, and entries too: %+v", got)
			}
		})
	}
}

// TestREADMEListsTheCatalogue: the README's check table (generated by
// --list-checks -o markdown; validate's TestREADMEListsEveryCheck keeps it
// current) lists the catalogue's codes, in order, with their level and
// summary; and one row for Istio's catalogue, which is not messages.yaml's.
func TestREADMEListsTheCatalogue(t *testing.T) {
	const start, end = "<!-- checks: go run ./validate --list-checks -o markdown -->\n", "<!-- end checks -->"
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i, j := strings.Index(text, start), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", start, end)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(text[i+len(start):j]), "\n")[2:] { // after the header and |---|
		row := cells(line)
		if len(row) > 0 && strings.HasPrefix(row[0], check.IstioPrefix+"0") {
			continue // Istio's catalogue, one row: its codes are Istio's (check.IstioAnalyzers)
		}
		rows = append(rows, row)
	}
	msgs, err := check.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(msgs) {
		t.Errorf("README.md lists %d checks, messages.yaml %d", len(rows), len(msgs))
	}
	for k := 0; k < len(rows) && k < len(msgs); k++ {
		m, row := msgs[k], rows[k]
		if len(row) != 4 || row[0] != m.Code || row[1] != string(m.Level) || row[2] != m.Summary {
			t.Errorf("README.md row %d: %q, want %s | %s | %s", k+1, row, m.Code, m.Level, m.Summary)
		}
	}
}

// cells splits a Markdown table row at its unescaped pipes.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var out []string
	var cur strings.Builder
	for k := 0; k < len(row); k++ {
		switch {
		case row[k] == '\\' && k+1 < len(row) && row[k+1] == '|':
			cur.WriteString(`\|`)
			k++
		case row[k] == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[k])
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// BenchmarkParseMessages is what every command that imports the package
// pays once at start-up: parsing and checking the repository's catalogue.
func BenchmarkParseMessages(b *testing.B) {
	data, err := os.ReadFile("messages.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := check.ParseMessages("messages.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
