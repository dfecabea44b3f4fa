package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
)

// lineOf returns the first line of data that contains s, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// yamlLine matches the line go-yaml names in its errors ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// yamlLinePrefix is go-yaml's "line 3: " before the cause.
var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// errLine returns the line of data a YAML error names, or 0. go-yaml
// reports "found a tab character that violates indentation" at the mark of
// the key before the tab (yaml_parser_fetch_value's simple-key mark), one
// line or more above it: for a tab, the line is the first line from there
// whose indentation holds the tab.
func errLine(data []byte, err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	if !strings.Contains(err.Error(), "tab character") {
		return n
	}
	lines := strings.Split(string(data), "\n")
	for i := n - 1; i >= 0 && i < len(lines); i++ {
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
		if strings.Contains(indent, "\t") {
			return i + 1
		}
	}
	return n
}

// CheckSources walks the kustomization graph from dir before Kustomize sees
// it, and refuses what would make a render reach the network or the world
// outside the repository, loop, or fail with a message that names no file:
// remote references, missing or escaping paths, cycles, and kustomization
// files that do not parse. customSchema reports whether a kustomization sets
// openapi: (a custom schema), which Kustomize keeps in process-wide state.
func CheckSources(t *render.Tree, dir string) (customSchema bool, err error) {
	err = checkDir(t, dir, nil, &customSchema)
	return customSchema, err
}

func checkDir(t *render.Tree, dir string, stack []string, customSchema *bool) error {
	for i, d := range stack {
		if d == dir {
			return &render.SourceError{File: render.KustomizationFile(t, dir), Msg: "kustomization cycle: " + strings.Join(append(stack[i:], dir), " -> ")}
		}
	}
	stack = append(stack, dir)
	file := render.KustomizationFile(t, dir)
	if file == "" {
		return &render.SourceError{File: dir, Msg: "directory has no kustomization.yaml"}
	}
	// A directory whose graph was found clean is clean from any stack: had
	// it reached a directory of this stack, that directory would reach it
	// back, a cycle the first walk would have refused. Only a clean result
	// is kept: a refusal may name a cycle through this walk's stack. Every
	// overlay of a base walks the base: it is checked once per run.
	if v, ok := t.Recall(file, cleanGraph); ok {
		*customSchema = *customSchema || v.(bool)
		return nil
	}
	custom := false
	if err := checkGraph(t, dir, file, stack, &custom); err != nil {
		return err
	}
	t.Remember(file, cleanGraph, custom)
	*customSchema = *customSchema || custom
	return nil
}

// cleanGraph is the memo purpose of a kustomization whose graph checkDir
// found clean; the value is whether the graph sets a custom schema.
const cleanGraph = "checkDir: clean"

func checkGraph(t *render.Tree, dir, file string, stack []string, customSchema *bool) error {
	data, err := t.ReadFile(file)
	if err != nil {
		return &render.SourceError{File: file, Msg: err.Error()}
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return &render.SourceError{File: file, Line: errLine(data, err), Msg: "not a valid kustomization: " + err.Error()}
	}
	if len(k.OpenAPI) > 0 {
		*customSchema = true
	}
	if k.Kind != "" && k.Kind != types.KustomizationKind && k.Kind != types.ComponentKind {
		return &render.SourceError{File: file, Msg: fmt.Sprintf("kind %q is not Kustomization or Component", k.Kind)}
	}
	refs := func(field string, list []string) error {
		for i, ref := range list {
			where := fmt.Sprintf("%s[%d] %q", field, i, ref)
			line := lineOf(data, ref)
			if render.IsRemote(ref) {
				return &render.SourceError{File: file, Line: line, Msg: where + " is a remote reference; the validator renders offline, so vendor it into the repository", Remote: true}
			}
			target := path.Clean(path.Join(dir, ref))
			if path.IsAbs(ref) || target == ".." || strings.HasPrefix(target, "../") {
				return &render.SourceError{File: file, Line: line, Msg: where + " points outside the repository"}
			}
			switch {
			case t.IsDir(target):
				if err := checkDir(t, target, stack, customSchema); err != nil {
					return err
				}
			case !t.Exists(target):
				return &render.SourceError{File: file, Line: line, Msg: where + ": no such file or directory"}
			case field == "resources":
				err, _ := t.Memo(target, "checkManifest", func() any { return checkManifest(t, target) }).(error)
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := checkPatches(t, dir, file, data, &k); err != nil {
		return err
	}
	if err := refs("resources", k.Resources); err != nil {
		return err
	}
	if err := refs("components", k.Components); err != nil {
		return err
	}
	//nolint:staticcheck // bases is deprecated but still honoured by Kustomize.
	return refs("bases", k.Bases)
}

// checkManifest reads every YAML document of a resource file and requires
// each to be a Kubernetes object (apiVersion, kind, metadata.name) or a List,
// so that Kustomize never sees a file it would reject with a message that
// names no line.
func checkManifest(t *render.Tree, file string) error {
	data, err := t.ReadFile(file)
	if err != nil {
		return &render.SourceError{File: file, Msg: err.Error()}
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &render.SourceError{File: file, Line: errLine(data, err), Msg: fmt.Sprintf("document %d is not valid YAML: %s", n, strings.TrimPrefix(err.Error(), "yaml: "))}
		}
		if doc == nil {
			continue // an empty document between separators
		}
		apiVersion, _ := doc["apiVersion"].(string)
		kind, _ := doc["kind"].(string)
		if apiVersion == "" || kind == "" {
			return &render.SourceError{File: file, Msg: fmt.Sprintf("document %d is not a Kubernetes object: it needs apiVersion and kind", n)}
		}
		if strings.HasSuffix(kind, "List") {
			continue
		}
		meta, _ := doc["metadata"].(map[string]any)
		if name, _ := meta["name"].(string); name == "" {
			if gen, _ := meta["generateName"].(string); gen == "" {
				return &render.SourceError{File: file, Msg: fmt.Sprintf("document %d (%s) has no metadata.name", n, kind)}
			}
		}
	}
}

// checkPatches parses every patch of a kustomization (patch files and
// inline patches) as Kustomize will, but strictly and before it: a tab, a
// bad indent, a duplicate key or bytes that are not UTF-8 become an error
// naming the patch file (or the kustomization, for an inline patch) and the
// line, instead of Kustomize's "unable to parse SM or JSON patch".
func checkPatches(t *render.Tree, dir, kfile string, kdata []byte, k *types.Kustomization) error {
	inline := render.InlinePatchLines(kdata)
	check := func(field string, i int, p types.Patch) error {
		where := fmt.Sprintf("%s[%d]", field, i)
		if p.Path != "" {
			file := path.Clean(path.Join(dir, p.Path))
			data, err := t.ReadFile(file)
			if err != nil {
				return nil // a missing patch file is Kustomize's to report, with its name
			}
			if line, msg := parsePatch(data); msg != "" {
				return &render.SourceError{File: file, Line: line, Msg: fmt.Sprintf("patch (%s of %s) is not valid YAML: %s", where, kfile, msg)}
			}
			return nil
		}
		if line, msg := parsePatch([]byte(p.Patch)); msg != "" {
			abs := 0
			if start := inline[where]; start > 0 && line > 0 {
				abs = start + line
			}
			return &render.SourceError{File: kfile, Line: abs, Msg: fmt.Sprintf("%s: inline patch is not valid YAML: %s", where, msg)}
		}
		return nil
	}
	for i, p := range k.Patches {
		if err := check("patches", i, p); err != nil {
			return err
		}
	}
	//nolint:staticcheck // patchesJson6902 and patchesStrategicMerge are deprecated but still honoured.
	for i, p := range k.PatchesJson6902 {
		if err := check("patchesJson6902", i, p); err != nil {
			return err
		}
	}
	//nolint:staticcheck // see above
	for i, p := range k.PatchesStrategicMerge {
		ref := string(p)
		if !strings.Contains(ref, "\n") && t.Exists(path.Join(dir, ref)) {
			if err := check("patchesStrategicMerge", i, types.Patch{Path: ref}); err != nil {
				return err
			}
			continue
		}
		if err := check("patchesStrategicMerge", i, types.Patch{Patch: ref}); err != nil {
			return err
		}
	}
	return nil
}

// parsePatch decodes every document of a patch strictly; it returns the
// line and cause of the first problem, or "".
func parsePatch(data []byte) (int, string) {
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return bytes.Count(data[:i], []byte("\n")) + 1, fmt.Sprintf("byte 0x%02x is not UTF-8", data[i])
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return 0, ""
		}
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			msg = strings.Join(strings.Fields(strings.TrimPrefix(msg, "unmarshal errors:")), " ")
			msg = yamlLinePrefix.ReplaceAllString(msg, "")
			return errLine(data, err), msg
		}
	}
}
