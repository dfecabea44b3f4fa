package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// remoteRef matches what Kustomize would fetch over the network: URLs, go-getter
// style git:: references, scp-like git@host:path and bare host/path forms.
var remoteRef = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://|git::|git@|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+(:[0-9]+)?/)`)

// IsRemote reports whether a kustomization resource, component or base names
// something Kustomize would download rather than read from the repository.
func IsRemote(ref string) bool { return remoteRef.MatchString(ref) }

// SourceError is an input problem found before rendering, naming the file.
type SourceError struct {
	File string // repository-relative
	Msg  string
	// Remote is set when the problem is a remote reference: the repository
	// is readable, one kustomization reaches for the network.
	Remote bool
}

func (e *SourceError) Error() string { return e.File + ": " + e.Msg }

// CheckSources walks the kustomization graph from dir before Kustomize sees
// it, and refuses what would make a render reach the network or the world
// outside the repository, loop, or fail with a message that names no file:
// remote references, missing or escaping paths, cycles, and kustomization
// files that do not parse.
func CheckSources(t *Tree, dir string) error {
	_, err := checkSources(t, dir)
	return err
}

// checkSources is CheckSources, also reporting whether a kustomization sets
// openapi: (a custom schema).
func checkSources(t *Tree, dir string) (customSchema bool, err error) {
	err = checkDir(t, dir, nil, &customSchema)
	return customSchema, err
}

func checkDir(t *Tree, dir string, stack []string, customSchema *bool) error {
	for i, d := range stack {
		if d == dir {
			return &SourceError{File: KustomizationFile(t, dir), Msg: "kustomization cycle: " + strings.Join(append(stack[i:], dir), " -> ")}
		}
	}
	stack = append(stack, dir)
	file := KustomizationFile(t, dir)
	if file == "" {
		return &SourceError{File: dir, Msg: "directory has no kustomization.yaml"}
	}
	data, err := t.ReadFile(file)
	if err != nil {
		return &SourceError{File: file, Msg: err.Error()}
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return &SourceError{File: file, Msg: "not a valid kustomization: " + err.Error()}
	}
	if len(k.OpenAPI) > 0 {
		*customSchema = true
	}
	if k.Kind != "" && k.Kind != types.KustomizationKind && k.Kind != types.ComponentKind {
		return &SourceError{File: file, Msg: fmt.Sprintf("kind %q is not Kustomization or Component", k.Kind)}
	}
	refs := func(field string, list []string) error {
		for i, ref := range list {
			where := fmt.Sprintf("%s[%d] %q", field, i, ref)
			if IsRemote(ref) {
				return &SourceError{File: file, Msg: where + " is a remote reference; the validator renders offline, so vendor it into the repository", Remote: true}
			}
			target := path.Clean(path.Join(dir, ref))
			if path.IsAbs(ref) || target == ".." || strings.HasPrefix(target, "../") {
				return &SourceError{File: file, Msg: where + " points outside the repository"}
			}
			switch {
			case t.IsDir(target):
				if err := checkDir(t, target, stack, customSchema); err != nil {
					return err
				}
			case t.Unsupported(target):
				return &SourceError{File: file, Msg: where + ": the validator cannot render a file name with characters outside [a-zA-Z0-9-_.:] (a limit of Kustomize's in-memory file system); rename it"}
			case !t.Exists(target):
				return &SourceError{File: file, Msg: where + ": no such file or directory"}
			case field == "resources":
				if err := checkManifest(t, target); err != nil {
					return err
				}
			}
		}
		return nil
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
func checkManifest(t *Tree, file string) error {
	data, err := t.ReadFile(file)
	if err != nil {
		return &SourceError{File: file, Msg: err.Error()}
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &SourceError{File: file, Msg: fmt.Sprintf("document %d is not valid YAML: %s", n, strings.TrimPrefix(err.Error(), "yaml: "))}
		}
		if doc == nil {
			continue // an empty document between separators
		}
		apiVersion, _ := doc["apiVersion"].(string)
		kind, _ := doc["kind"].(string)
		if apiVersion == "" || kind == "" {
			return &SourceError{File: file, Msg: fmt.Sprintf("document %d is not a Kubernetes object: it needs apiVersion and kind", n)}
		}
		if strings.HasSuffix(kind, "List") {
			continue
		}
		meta, _ := doc["metadata"].(map[string]any)
		if name, _ := meta["name"].(string); name == "" {
			if gen, _ := meta["generateName"].(string); gen == "" {
				return &SourceError{File: file, Msg: fmt.Sprintf("document %d (%s) has no metadata.name", n, kind)}
			}
		}
	}
}
