// Package variants is the shared corpus of broken repositories: each variant
// applies a few textual edits to the fork fixture (validate/testdata/fork)
// and states the exact set of findings the validator must report for it.
// The pipeline's tests and the kube-apiserver oracle both read it.
package variants

import (
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Edit replaces Old with New in File; Old must occur exactly once. An edit
// with an empty Old creates File, which must not exist yet, with New.
type Edit struct {
	File string `yaml:"file"`
	Old  string `yaml:"old"`
	New  string `yaml:"new"`
	// Fill, when set, makes data too large to write in the corpus: every
	// Fill.Mark in New stands for Fill.Text repeated Fill.Times times.
	Fill *Fill `yaml:"fill,omitempty"`
}

// Fill is a run of repeated text an edit's New holds at Mark.
type Fill struct {
	Mark  string `yaml:"mark"`
	Text  string `yaml:"text"`
	Times int    `yaml:"times"`
}

// text returns e.New with its fill expanded.
func (e Edit) text() string {
	if e.Fill == nil {
		return e.New
	}
	return strings.ReplaceAll(e.New, e.Fill.Mark, strings.Repeat(e.Fill.Text, e.Fill.Times))
}

// Want is one expected finding: its code, the file and line to edit, the
// resource it names ("" when none) and the targets it is reported for.
type Want struct {
	Code     string   `yaml:"code"`
	File     string   `yaml:"file"`
	Line     int      `yaml:"line"`
	Resource string   `yaml:"resource"`
	Targets  []string `yaml:"targets"`
	// Message, if set, is a substring the finding's message must contain.
	Message string `yaml:"message,omitempty"`
}

// Variant is one broken repository: the fixture with Edits applied, and the
// exact set of findings it must produce. A variant that is a legitimate use
// some checks must accept (a near miss) names them in Passes; none of them
// may be in Want.
type Variant struct {
	Name   string   `yaml:"name"`
	Edits  []Edit   `yaml:"edits"`
	Want   []Want   `yaml:"want"`
	Passes []string `yaml:"passes,omitempty"`
}

//go:embed variants.yaml
var corpus []byte

// All returns every variant, in file order. The corpus is decoded strictly:
// an unknown key, a variant without a name or edits, or a repeated name is an
// error.
func All() ([]Variant, error) {
	return parse(corpus)
}

func parse(data []byte) ([]Variant, error) {
	var out []Variant
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("variants.yaml: %w", err)
	}
	seen := map[string]bool{}
	for i, v := range out {
		switch {
		case v.Name == "":
			return nil, fmt.Errorf("variants.yaml: variant %d has no name", i+1)
		case seen[v.Name]:
			return nil, fmt.Errorf("variants.yaml: variant %q appears twice", v.Name)
		case len(v.Edits) == 0:
			return nil, fmt.Errorf("variants.yaml: variant %q has no edits", v.Name)
		}
		seen[v.Name] = true
		for j, e := range v.Edits {
			switch {
			case e.File == "":
				return nil, fmt.Errorf("variants.yaml: variant %q, edit %d: file is required", v.Name, j+1)
			case e.Old == "" && e.New == "":
				return nil, fmt.Errorf("variants.yaml: variant %q, edit %d: old or new is required", v.Name, j+1)
			case e.Fill != nil && (e.Fill.Mark == "" || e.Fill.Times <= 0 || !strings.Contains(e.New, e.Fill.Mark)):
				return nil, fmt.Errorf("variants.yaml: variant %q, edit %d: fill needs a mark that new contains and times > 0", v.Name, j+1)
			}
		}
		wanted := map[string]bool{}
		for j, w := range v.Want {
			if w.Code == "" || w.File == "" || len(w.Targets) == 0 {
				return nil, fmt.Errorf("variants.yaml: variant %q, want %d: code, file and targets are required", v.Name, j+1)
			}
			wanted[w.Code] = true
		}
		for _, code := range v.Passes {
			if wanted[code] {
				return nil, fmt.Errorf("variants.yaml: variant %q both wants and passes %s", v.Name, code)
			}
		}
	}
	return out, nil
}

// Apply makes v's edits to files (repository-relative path -> content) in
// place. An edit whose old string does not occur exactly once in its file,
// whose file is missing, or that creates a file that exists, is an error
// naming the variant, file and edit.
func (v Variant) Apply(files map[string][]byte) error {
	for i, e := range v.Edits {
		data, ok := files[e.File]
		if e.Old == "" {
			if ok {
				return fmt.Errorf("variant %q, edit %d: %s exists; an edit without old creates a file", v.Name, i+1, e.File)
			}
			files[e.File] = []byte(e.text())
			continue
		}
		if !ok {
			return fmt.Errorf("variant %q, edit %d: %s is not a file of the fixture", v.Name, i+1, e.File)
		}
		if n := strings.Count(string(data), e.Old); n != 1 {
			return fmt.Errorf("variant %q, edit %d: %s contains %q %d times, want exactly once", v.Name, i+1, e.File, e.Old, n)
		}
		files[e.File] = []byte(strings.Replace(string(data), e.Old, e.text(), 1))
	}
	return nil
}

// WriteTree writes files (slash-separated path -> content, as Fixture reads
// them) below dir, creating the folders they need.
func WriteTree(dir string, files map[string][]byte) error {
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Fixture reads every regular file below dir into a map from its
// slash-separated path relative to dir to its content.
func Fixture(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("fixture %s: no files", dir)
	}
	return files, nil
}

// Paths returns the keys of files, sorted: the order to add them in.
func Paths(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
