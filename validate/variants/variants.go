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

// Edit replaces Old with New in File; Old must occur exactly once.
type Edit struct {
	File string `yaml:"file"`
	Old  string `yaml:"old"`
	New  string `yaml:"new"`
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
// exact set of findings it must produce.
type Variant struct {
	Name  string `yaml:"name"`
	Edits []Edit `yaml:"edits"`
	Want  []Want `yaml:"want"`
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
			if e.File == "" || e.Old == "" {
				return nil, fmt.Errorf("variants.yaml: variant %q, edit %d: file and old are required", v.Name, j+1)
			}
		}
		for j, w := range v.Want {
			if w.Code == "" || w.File == "" || len(w.Targets) == 0 {
				return nil, fmt.Errorf("variants.yaml: variant %q, want %d: code, file and targets are required", v.Name, j+1)
			}
		}
	}
	return out, nil
}

// Apply makes v's edits to files (repository-relative path -> content) in
// place. An edit whose old string does not occur exactly once in its file,
// or whose file is missing, is an error naming the variant, file and edit.
func (v Variant) Apply(files map[string][]byte) error {
	for i, e := range v.Edits {
		data, ok := files[e.File]
		if !ok {
			return fmt.Errorf("variant %q, edit %d: %s is not a file of the fixture", v.Name, i+1, e.File)
		}
		if n := strings.Count(string(data), e.Old); n != 1 {
			return fmt.Errorf("variant %q, edit %d: %s contains %q %d times, want exactly once", v.Name, i+1, e.File, e.Old, n)
		}
		files[e.File] = []byte(strings.Replace(string(data), e.Old, e.New, 1))
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
