package render

import (
	"bytes"
	"errors"
	"io"
	"path"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// This file finds where a repository's entry points live, whatever its
// layout:
//
//   - with a clusters/ folder (this repository's layout, flux bootstrap's
//     clusters/<name>/), every manifest below it, each clusters/<name>
//     folder a cluster;
//   - without one, every folder holding a Flux Kustomization or an Argo CD
//     Application (or ApplicationSet) that no other entry point applies: the
//     root of an app-of-apps, a flux/ folder. That folder is the cluster.
//
// Then, recursively, the entry points an entry point's path renders: the
// Applications of an app-of-apps' folder, the Flux Kustomizations of a
// Kustomization of Kustomizations. Each path is read once (a cycle of
// Applications ends there), and the child belongs to its parent's cluster.

// layout is what scanLayout found.
type layout struct {
	// docs is every YAML document read: the cluster folders' first, then
	// those of the files entry points render, in the order they were found.
	docs    []document
	entries []*EntryPoint
	// roots are the folders outside clusters/ holding root entry points, in
	// order (empty when the repository has clusters/).
	roots []string
	// read marks the files read, followed the paths followed.
	read, followed map[string]bool
}

// scannedLayout is a layout and the tree generation it was scanned at.
type scannedLayout struct {
	gen int
	l   *layout
	err error
}

// scanLayout reads the documents that declare the repository's entry
// points, once per generation of the tree: Discover, EntryPoints,
// HelmEntryPoints, ArgoApplications and ClusterObjects all ask before the
// pipeline prepares its first target, and any Add (a wrapper, a generated
// kustomization) makes the next call scan again. Callers read the layout;
// they never change it.
func scanLayout(t *Tree) (*layout, error) {
	t.mu.Lock()
	if c := t.scanned; c != nil && c.gen == t.gen {
		t.mu.Unlock()
		return c.l, c.err
	}
	gen := t.gen
	t.mu.Unlock()
	l, err := scan(t)
	t.mu.Lock()
	t.scanned = &scannedLayout{gen: gen, l: l, err: err}
	t.mu.Unlock()
	return l, err
}

func scan(t *Tree) (*layout, error) {
	l := &layout{read: map[string]bool{}, followed: map[string]bool{}}
	if t.IsDir("clusters") {
		for _, f := range manifestFiles(t, "clusters") {
			parts := strings.SplitN(f, "/", 3)
			l.readFile(t, f, path.Join(parts[0], parts[1]))
		}
	} else {
		l.readRoots(t)
	}
	if err := l.expand(t); err != nil {
		return nil, err
	}
	return l, nil
}

// readRoots reads, for a repository without clusters/, the files holding
// entry points that no entry point's path renders (a cycle of entry points
// with no such file is read whole), with the other manifests of their
// folders (a GitRepository, a ConfigMap of postBuild variables).
func (l *layout) readRoots(t *Tree) {
	var candidates []string
	docs := map[string][]document{}
	for _, f := range manifestFiles(t, ".") {
		ds := readDocuments(t, f, path.Dir(f))
		for _, d := range ds {
			if isEntryDocument(d) {
				candidates = append(candidates, f)
				docs[f] = ds
				break
			}
		}
	}
	child := map[string]bool{}
	for _, f := range candidates {
		for _, d := range docs[f] {
			entries, _ := entriesOf(t, d, docs[f])
			for _, e := range entries {
				for _, g := range renderedFiles(t, e.Path) {
					if g != f {
						child[g] = true
					}
				}
			}
		}
	}
	var roots []string
	for _, f := range candidates {
		if !child[f] {
			roots = append(roots, f)
		}
	}
	if len(roots) == 0 {
		roots = candidates
	}
	for _, f := range roots {
		dir := path.Dir(f)
		l.readFile(t, f, dir)
		if !contains(l.roots, dir) {
			l.roots = append(l.roots, dir)
		}
		if dir == "." {
			continue // the repository's root: its other files are not a cluster's
		}
		entries, _ := t.ReadDir(dir)
		for _, e := range entries {
			if p := path.Join(dir, e); isManifest(e) && !t.IsDir(p) {
				l.readFile(t, p, dir)
			}
		}
	}
}

// expand turns the documents into entry points, reading what each entry
// point's path renders as it goes (the documents read are expanded in turn).
func (l *layout) expand(t *Tree) error {
	for i := 0; i < len(l.docs); i++ {
		entries, err := entriesOf(t, l.docs[i], l.docs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			l.entries = append(l.entries, e)
			l.follow(t, e)
		}
	}
	return nil
}

// follow reads the files e's path renders, as documents of e's cluster.
func (l *layout) follow(t *Tree, e *EntryPoint) {
	if e.Path == "" || e.Problem != "" || e.Path == "clusters" || strings.HasPrefix(e.Path, "clusters/") {
		return // read as a cluster folder already
	}
	if e.Flux != nil && e.Flux.Spec.SourceRef.Kind != "GitRepository" {
		return // an OCIRepository or a Bucket: not this repository
	}
	if l.followed[e.Path] {
		return
	}
	l.followed[e.Path] = true
	for _, f := range renderedFiles(t, e.Path) {
		l.readFile(t, f, e.Cluster)
	}
}

// readFile adds the documents of file, once.
func (l *layout) readFile(t *Tree, file, cluster string) {
	if l.read[file] {
		return
	}
	l.read[file] = true
	l.docs = append(l.docs, readDocuments(t, file, cluster)...)
}

// isEntryDocument reports whether d is a Flux Kustomization or an Argo CD
// Application or ApplicationSet.
func isEntryDocument(d document) bool {
	apiVersion, _ := d.obj["apiVersion"].(string)
	kind, _ := d.obj["kind"].(string)
	switch groupOf(apiVersion) {
	case "kustomize.toolkit.fluxcd.io":
		return kind == "Kustomization"
	case "argoproj.io":
		return kind == "Application" || kind == "ApplicationSet"
	}
	return false
}

// readDocuments returns every YAML mapping document of file. A file that does
// not parse yields the documents before the error: the render of the folder
// holding it reports the error with its line. The file is parsed once per
// content (Tree.Memo): the layout is scanned for the targets, the entry
// points, the Helm entry points and the Flux sources. The documents' objects
// are shared: read them, never write to them.
func readDocuments(t *Tree, file, cluster string) []document {
	parsed := t.Memo(file, "documents", func() any { return parseDocuments(t, file) }).([]document)
	docs := make([]document, len(parsed))
	for i, d := range parsed {
		d.cluster = cluster
		docs[i] = d
	}
	return docs
}

func parseDocuments(t *Tree, file string) []document {
	data, err := t.ReadFile(file)
	if err != nil {
		return nil
	}
	var docs []document
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var node yamlv3.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if len(node.Content) == 0 || node.Content[0].Kind != yamlv3.MappingNode {
			continue
		}
		var obj map[string]any
		if node.Decode(&obj) != nil {
			continue
		}
		docs = append(docs, document{file: file, line: node.Content[0].Line, obj: jsonCompatible(obj).(map[string]any)})
	}
	return docs
}

// manifestFiles lists the manifests below dir, in order, leaving out
// folders whose name starts with a dot (.git, .github, the validator's
// in-memory .meshops- folders).
func manifestFiles(t *Tree, dir string) []string {
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		entries, _ := t.ReadDir(dir)
		for _, e := range entries {
			p := path.Join(dir, e)
			switch {
			case t.IsDir(p):
				if !strings.HasPrefix(e, ".") {
					walk(p)
				}
			case isManifest(e):
				out = append(out, p)
			}
		}
	}
	walk(dir)
	return out
}

// renderedFiles lists the repository's manifests the render of dir reads:
// with a kustomization, its resources and components, followed into the
// folders they name; without one, every manifest below dir, as the
// kustomization Flux generates (and the validator renders an Argo CD
// directory source with) lists them.
func renderedFiles(t *Tree, dir string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		if seen[dir] || !t.IsDir(dir) {
			return
		}
		seen[dir] = true
		kfile := KustomizationFile(t, dir)
		if kfile == "" {
			for _, f := range ManifestsBelow(t, dir) {
				if p := path.Join(dir, f); t.IsDir(p) {
					walk(p)
				} else {
					out = append(out, p)
				}
			}
			return
		}
		data, err := t.ReadFile(kfile)
		if err != nil {
			return
		}
		var k types.Kustomization
		if yaml.Unmarshal(data, &k) != nil {
			return // the render reports it
		}
		//nolint:staticcheck // bases is deprecated but still honoured.
		refs := append(append(append([]string{}, k.Resources...), k.Components...), k.Bases...)
		for _, r := range refs {
			if IsRemote(r) {
				continue
			}
			p := path.Clean(path.Join(dir, r))
			switch {
			case t.IsDir(p):
				walk(p)
			case isManifest(p) && t.Exists(p) && !seen[p]:
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	walk(RepoPath(dir))
	return out
}

// IsComponent reports whether dir's kustomization is a Kustomize Component
// (kind: Component), which renders only through the kustomizations that list
// it under components:, never on its own.
func IsComponent(t *Tree, dir string) bool {
	file := KustomizationFile(t, dir)
	if file == "" {
		return false
	}
	data, err := t.ReadFile(file)
	if err != nil {
		return false
	}
	var meta struct {
		Kind string `json:"kind"`
	}
	return yaml.Unmarshal(FirstDocument(data), &meta) == nil && meta.Kind == types.ComponentKind
}

// FirstDocument is a file's first YAML document: what IsComponent and Flux's
// kustomization generator read of a file's kind.
func FirstDocument(data []byte) []byte {
	s := string(data)
	s = strings.TrimPrefix(s, "---\n")
	if i := strings.Index(s, "\n---"); i >= 0 {
		s = s[:i]
	}
	return []byte(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
