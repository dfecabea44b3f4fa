package render

import (
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
)

// Result is one rendered target.
type Result struct {
	Target Target
	// Resources is the build output, byte for byte what `kustomize build`
	// prints (origin annotations removed).
	Resources resmap.ResMap
	// sources maps each resource to the repository file that declared it.
	sources map[*resource.Resource]string
	tree    *Tree
	// Undefined lists, for a Flux target, the variables each resource uses
	// that nothing defines.
	Undefined []UndefinedVar
	// destinationSet: Argo CD's destination namespace changed a resource.
	destinationSet bool
	// reads is what the build read from the tree.
	reads *ReadLog
	// line is, for a Helm target, the line of its HelmRelease or
	// Application: where a finding about a chart-rendered object points
	// when nothing closer is known.
	line int
}

// NewResult is an engine's build of target from t: the resources m, each
// declared in the repository file sources names (Source names the target's
// kustomization for one it does not: Kustomize generated it), and reads, when
// not nil, what the build read of t (Share).
func NewResult(t *Tree, target Target, m resmap.ResMap, sources map[*resource.Resource]string, reads *ReadLog) *Result {
	return &Result{Target: target, Resources: m, sources: sources, tree: t, reads: reads}
}

// MarkNamespaced records that the engine gave resources a namespace after
// the build (Argo CD's destination namespace): Share then hands the result
// to no engine that does not.
func (r *Result) MarkNamespaced() { r.destinationSet = true }

// NewHelmResult wraps the objects an engine outside this package rendered
// (render/helm: a chart's manifests) as the result of target, every object
// declared by the target's entry point file at its line. t is the
// repository, from which the checks read files.
func NewHelmResult(t *Tree, target Target, m resmap.ResMap) *Result {
	r := &Result{Target: target, Resources: m, sources: make(map[*resource.Resource]string, m.Size()), tree: t}
	if target.Entry != nil {
		r.line = target.Entry.Line
		for _, res := range m.Resources() {
			r.sources[res] = target.Entry.File
		}
	}
	return r
}

// WithTarget returns the result as the render of another target whose
// engine renders the same objects (a Helm release of the same chart,
// values, name and namespace). Resources are shared: checks only read them.
func (r *Result) WithTarget(tg Target) *Result {
	shared := *r
	shared.Target = tg
	if tg.Entry != nil && r.line != 0 {
		shared.line = tg.Entry.Line
		shared.sources = make(map[*resource.Resource]string, len(r.sources))
		for res := range r.sources {
			shared.sources[res] = tg.Entry.File
		}
	}
	return &shared
}

// EntryLine is, for a Helm target, the line of the HelmRelease or
// Application that installs the chart, which findings about rendered
// objects name when their file has no document of theirs; 0 otherwise.
func (r *Result) EntryLine() int { return r.line }

// Source returns the repository-relative file that declared r, or the
// target's kustomization file when Kustomize generated r.
func (r *Result) Source(res *resource.Resource) string {
	if s, ok := r.sources[res]; ok && s != "" {
		return s
	}
	if f := KustomizationFile(r.tree, r.Target.Dir); f != "" || r.Target.Entry == nil {
		return f
	}
	return r.Target.Entry.File
}

// Share returns the result as the render of another target, when that
// target's engine would render exactly the same resources: a plain Flux
// Kustomization (no options, no postBuild) of the path a plain Argo CD
// Application built. Kustomize's output does not depend on the load
// restrictions once a build succeeds, so that holds when Flux's artifact
// left out none of the repository's files and Argo CD gave no resource its
// destination namespace. Resources are shared: checks only read them.
//
// A plain Flux Kustomization may also reuse another plain one's build of the
// same path from the same source.
func (r *Result) Share(tg Target) (*Result, bool) {
	if tg.Kind != Flux || tg.Entry == nil || tg.Entry.HasOptions() || r.Target.Entry == nil || r.Target.Entry.HasOptions() {
		return nil, false
	}
	switch r.Target.Kind {
	case Flux:
		if r.Target.tree != tg.tree {
			return nil, false
		}
	case ArgoCD:
		// The artifact must hold every file the Argo CD build read: a file
		// source-controller leaves out (.github/, images, .sourceignore'd
		// paths) changes Flux's build only if Kustomize reads it. The
		// in-memory kustomizations each engine's preparation added beside
		// the path are not part of the other's build.
		if r.destinationSet || tg.tree == nil || tg.tree.artifactOf != r.tree || r.reads.anyOf(tg.tree.dropped) {
			return nil, false
		}
	default:
		return nil, false
	}
	shared := *r
	shared.Target = tg
	return &shared, true
}

// Tree is the tree the result was rendered from.
func (r *Result) Tree() *Tree { return r.tree }

// Memo is the tree's Memo: what was parsed from a file, parsed once.
func (r *Result) Memo(rel, purpose string, compute func() any) any {
	return r.tree.Memo(rel, purpose, compute)
}

// ReadFile reads a repository file from the tree the result was rendered from.
func (r *Result) ReadFile(rel string) ([]byte, error) { return r.tree.ReadFile(rel) }

// UndefinedVar is a Flux variable a resource uses that no substitute,
// substituteFrom or default defines: Flux, without strict substitution,
// replaces it by "".
type UndefinedVar struct {
	Resource *resource.Resource // as rendered
	Names    []string
}

// clusterScoped are the built-in kinds without a namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "StorageClass": true, "PriorityClass": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "APIService": true,
	"RuntimeClass": true, "CSIDriver": true, "VolumeAttachment": true, "GatewayClass": true, "ClusterIssuer": true,
}

// ClusterScoped reports whether kind is one of the built-in kinds without a
// namespace.
func ClusterScoped(kind string) bool { return clusterScoped[kind] }
