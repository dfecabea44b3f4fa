package variants

import (
	"strings"
	"testing"
)

func TestAllParses(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no variant in variants.yaml")
	}
}

// TestEveryEditApplies applies every variant to the fork fixture: each old
// string must occur exactly once.
func TestEveryEditApplies(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	clean, err := Fixture("../testdata/fork")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		files := make(map[string][]byte, len(clean))
		for p, d := range clean {
			files[p] = d
		}
		if err := v.Apply(files); err != nil {
			t.Error(err)
		}
	}
}

func TestApplyRefusesAmbiguousEdits(t *testing.T) {
	files := map[string][]byte{"a.yaml": []byte("x: 1\nx: 1\n"), "b.yaml": []byte("y: 2\n")}
	tests := []struct {
		edit Edit
		want string
	}{
		{Edit{File: "a.yaml", Old: "x: 1", New: "x: 2"}, `variant "v", edit 1: a.yaml contains "x: 1" 2 times, want exactly once`},
		{Edit{File: "b.yaml", Old: "z", New: "w"}, `variant "v", edit 1: b.yaml contains "z" 0 times, want exactly once`},
		{Edit{File: "c.yaml", Old: "z", New: "w"}, `variant "v", edit 1: c.yaml is not a file of the fixture`},
	}
	for _, tt := range tests {
		err := Variant{Name: "v", Edits: []Edit{tt.edit}}.Apply(files)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Apply(%+v) = %v, want %q", tt.edit, err, tt.want)
		}
	}
	if err := (Variant{Name: "v", Edits: []Edit{{File: "b.yaml", Old: "y: 2", New: "y: 3"}}}).Apply(files); err != nil || string(files["b.yaml"]) != "y: 3\n" {
		t.Errorf("Apply = %v, b.yaml %q, want y: 3", err, files["b.yaml"])
	}
}

func TestParseRefusesMalformedCorpus(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"- name: a\n  edits: [{file: f, old: o, new: n}]\n  wnat: []\n", "field wnat not found"},
		{"- edits: [{file: f, old: o, new: n}]\n", "has no name"},
		{"- name: a\n  edits: [{file: f, old: o, new: n}]\n- name: a\n  edits: [{file: f, old: o, new: n}]\n", "appears twice"},
		{"- name: a\n", "has no edits"},
		{"- name: a\n  edits: [{file: f, old: o}]\n  want: [{code: X, file: f}]\n", "code, file and targets are required"},
		{"- name: a\n  edits: [{file: f}]\n", "old or new is required"},
		{"- name: a\n  edits: [{old: o, new: n}]\n", "file is required"},
		{"- name: a\n  edits: [{file: f, old: o, new: n, fill: {mark: M, text: x, times: 3}}]\n", "fill needs a mark"},
		{"- name: a\n  edits: [{file: f, old: o, new: nM, fill: {mark: M, text: x}}]\n", "fill needs a mark"},
		{"- name: a\n  edits: [{file: f, old: o, new: n}]\n  want: [{code: X, file: f, targets: [t]}]\n  passes: [X]\n", "both wants and passes X"},
	}
	for _, tt := range tests {
		_, err := parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parse(%q) = %v, want an error containing %q", tt.doc, err, tt.want)
		}
	}
}

// TestApplyCreatesAndFills: an edit without old creates a new file (never
// an existing one), and a fill expands to exactly its size.
func TestApplyCreatesAndFills(t *testing.T) {
	files := map[string][]byte{"a.yaml": []byte("x: 1\n")}
	v := Variant{Name: "v", Edits: []Edit{
		{File: "b.yaml", New: "data: FILL\n", Fill: &Fill{Mark: "FILL", Text: "ab", Times: 3}},
		{File: "a.yaml", Old: "x: 1", New: "x: FILL", Fill: &Fill{Mark: "FILL", Text: "z", Times: 2}},
	}}
	if err := v.Apply(files); err != nil {
		t.Fatal(err)
	}
	if got := string(files["b.yaml"]); got != "data: ababab\n" {
		t.Errorf("b.yaml = %q, want %q", got, "data: ababab\n")
	}
	if got := string(files["a.yaml"]); got != "x: zz\n" {
		t.Errorf("a.yaml = %q, want %q", got, "x: zz\n")
	}
	err := Variant{Name: "v", Edits: []Edit{{File: "a.yaml", New: "y: 2\n"}}}.Apply(files)
	if want := `variant "v", edit 1: a.yaml exists; an edit without old creates a file`; err == nil || err.Error() != want {
		t.Errorf("creating an existing file: %v, want %q", err, want)
	}
}
