package render

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
)

// Kind says what a Target is for.
type Kind string

const (
	// Overlay is an environment under overlays/, or the plain build of a
	// path an entry point applies with options (a hidden baseline).
	Overlay Kind = "overlay"
	// Cluster is a folder that declares entry points: one under clusters/,
	// or in a repository without clusters/ a folder of root entry points.
	Cluster Kind = "cluster"
)

// Target is a directory that renders to a set of resources.
type Target struct {
	Kind Kind
	// Dir is the repository-relative directory, e.g. "overlays/dev".
	Dir string
	// Generated is true for a directory without a kustomization file, which
	// Flux renders by generating one that lists every manifest below it.
	Generated bool
	// Entry is the Flux Kustomization or Argo CD Application a Flux or
	// ArgoCD target renders, nil for overlays and cluster folders.
	Entry *EntryPoint
	// BuildDir is where an entry point's target is built when its options
	// change the kustomization: a copy of Dir beside it.
	BuildDir string
	// Without names the transformer a baseline leaves out of Dir's
	// kustomization (kustomize.PrepareWithout), "" for every other target.
	Without string
	// tree is the tree a Flux target builds from (its GitRepository's
	// artifact), when not the repository's.
	tree *Tree
	// vars are a Flux target's postBuild variables.
	vars         map[string]string
	customSchema bool
}

// Name is the target's last path element ("dev" for overlays/dev).
func (t Target) Name() string { return path.Base(t.Dir) }

// ID names the target in findings: the directory, or for an entry point
// its file and name ("clusters/dev/flux/blog.yaml#blog").
func (t Target) ID() string {
	if t.Entry != nil {
		return t.Entry.ID()
	}
	if t.Without != "" {
		return t.Dir + "#without:" + t.Without
	}
	return t.Dir
}

// SameSource reports whether two targets build from the same tree.
func (t Target) SameSource(o Target) bool { return t.tree == o.tree }

// Artifact is the tree the target builds from when it is not the
// repository's (a Flux target's GitRepository artifact, Tree.Filter), or nil.
func (t Target) Artifact() *Tree { return t.tree }

// SetArtifact makes the target build from a, a tree Tree.Filter made of the
// repository: its engine's Prepare sets it.
func (t *Target) SetArtifact(a *Tree) { t.tree = a }

// Variables are a Flux target's postBuild variables, resolved when it was
// prepared: what the engine substitutes after the build.
func (t Target) Variables() map[string]string { return t.vars }

// SetVariables records the postBuild variables the engine's Prepare resolved.
func (t *Target) SetVariables(vars map[string]string) { t.vars = vars }

// CustomSchema reports whether a prepared entry point's kustomizations set
// openapi:, which Kustomize keeps in process-wide state.
func (t Target) CustomSchema() bool { return t.customSchema }

// SetCustomSchema records what the engine's Prepare found: whether a
// kustomization the target reaches sets openapi:.
func (t *Target) SetCustomSchema(custom bool) { t.customSchema = custom }

// Discover lists, in a stable order, the targets the repository's layout
// gives, before its entry points are read:
//
//   - each overlays/<env> with a kustomization file, rendered with the
//     Kustomize CLI's rules unless an entry point applies it (a folder
//     without one, such as shared patches, or whose kustomization is a
//     Component, is not an environment);
//   - under clusters/, each folder with a kustomization file or, failing
//     that, with manifests that no folder above it already covers;
//   - in a repository without clusters/, each folder holding root entry
//     points (Flux Kustomizations, Argo CD Applications) other than the
//     repository's root, rendered as Flux renders a folder.
//
// overlays/ is one layout among others: a repository needs overlays or entry
// points, and one with neither is an error.
func Discover(t *Tree) ([]Target, error) {
	var targets []Target
	if t.IsDir("overlays") {
		envs, err := t.ReadDir("overlays")
		if err != nil {
			return nil, fmt.Errorf("overlays: %w", err)
		}
		for _, env := range envs {
			dir := path.Join("overlays", env)
			if !t.IsDir(dir) || KustomizationFile(t, dir) == "" || IsComponent(t, dir) {
				continue // shared files or components, not an environment
			}
			targets = append(targets, Target{Kind: Overlay, Dir: dir})
		}
	}
	l, err := scanLayout(t)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 && len(l.entries) == 0 {
		return nil, fmt.Errorf("nothing to validate in %s: no overlays/<env>/ with a kustomization file, and no Flux Kustomization or Argo CD Application (under clusters/, or in any folder when there is no clusters/)", t.Dir)
	}
	if t.IsDir("clusters") {
		if err := discoverClusters(t, "clusters", &targets); err != nil {
			return nil, err
		}
	}
	for _, dir := range l.roots {
		if dir != "." {
			targets = append(targets, Target{Kind: Cluster, Dir: dir, Generated: KustomizationFile(t, dir) == ""})
		}
	}
	return targets, nil
}

func discoverClusters(t *Tree, dir string, targets *[]Target) error {
	if dir != "clusters" {
		if IsComponent(t, dir) {
			return nil // rendered through the kustomizations that use it
		}
		if KustomizationFile(t, dir) != "" {
			*targets = append(*targets, Target{Kind: Cluster, Dir: dir})
			return nil
		}
		if hasManifests(t, dir) {
			*targets = append(*targets, Target{Kind: Cluster, Dir: dir, Generated: true})
			return nil
		}
	}
	entries, err := t.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, e := range entries {
		sub := path.Join(dir, e)
		if t.IsDir(sub) {
			if err := discoverClusters(t, sub, targets); err != nil {
				return err
			}
		}
	}
	return nil
}

// KustomizationFile returns the repository-relative path of dir's
// kustomization file, or "" if it has none.
func KustomizationFile(t *Tree, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(dir, name)
		if t.Exists(p) && !t.IsDir(p) {
			return p
		}
	}
	return ""
}

// remoteRef matches what Kustomize would fetch over the network: URLs, go-getter
// style git:: references, scp-like git@host:path and bare host/path forms.
var remoteRef = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://|git::|git@|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+(:[0-9]+)?/)`)

// IsRemote reports whether a kustomization resource, component or base names
// something Kustomize would download rather than read from the repository.
func IsRemote(ref string) bool { return remoteRef.MatchString(ref) }

func isManifest(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

func hasManifests(t *Tree, dir string) bool {
	entries, _ := t.ReadDir(dir)
	for _, e := range entries {
		if isManifest(e) && !t.IsDir(path.Join(dir, e)) {
			return true
		}
	}
	return false
}

// ManifestsBelow lists, relative to dir, what Flux's kustomization generator
// would: every manifest in dir and below it, except that a subdirectory with
// its own kustomization file (flux bootstrap's flux-system/) is listed as a
// directory and not entered.
func ManifestsBelow(t *Tree, dir string) []string {
	var out []string
	var walk func(rel string)
	walk = func(rel string) {
		entries, _ := t.ReadDir(path.Join(dir, rel))
		for _, e := range entries {
			p := path.Join(rel, e)
			switch {
			case t.IsDir(path.Join(dir, p)) && KustomizationFile(t, path.Join(dir, p)) != "":
				out = append(out, p)
			case t.IsDir(path.Join(dir, p)):
				walk(p)
			case isManifest(e):
				out = append(out, p)
			}
		}
	}
	walk("")
	return out
}
