// Package check defines the validator's checks: one file per check, each with
// a stable code, a severity, a one-line summary and the reason it exists. The
// texts live in messages.yaml, one entry per code; a check's file declares
// its code (catalogued) and its function.
package check

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"meshops.dev/meshops/validate/analyze"
	"meshops.dev/meshops/validate/crdschema"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
)

// Severity is how bad a finding is. Errors fail the run; warnings do not.
type Severity string

const (
	// Info is a finding that informs (Istio's Info level): it never fails
	// the run.
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// IgnoreAnnotation silences findings on the resource that carries it: its
// value is a comma-separated list of check codes.
const IgnoreAnnotation = "validate.meshops.dev/ignore"

// Finding is one problem in one resource of one target.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Target is the overlay or cluster entry point the resource was rendered
	// in; the first of Targets once the pipeline has merged the findings
	// that several targets share.
	Target string `json:"target"`
	// Targets lists every target that reports this same finding, sorted.
	Targets []string `json:"targets,omitempty"`
	// File is the repository file to edit.
	File string `json:"file"`
	// Line is where in File the resource's document starts; 0 if unknown.
	Line int `json:"line,omitempty"`
	// Resource names the object ("WasmPlugin blog/blog-headers"), if any.
	Resource string `json:"resource,omitempty"`
	Message  string `json:"message"`
	// Analyzer is the Istio analyzer that reported an IST finding
	// ("virtualservice.GatewayAnalyzer"), or the one a meshops finding
	// stands for; not printed.
	Analyzer string `json:"-"`

	object *index.Object
}

// AllTargets returns the targets the finding is reported for.
func (f Finding) AllTargets() []string {
	if len(f.Targets) > 0 {
		return f.Targets
	}
	if f.Target == "" {
		return nil
	}
	return []string{f.Target}
}

func (f Finding) String() string {
	where := f.File
	if f.Line > 0 {
		where += ":" + strconv.Itoa(f.Line)
	}
	if f.Resource != "" {
		where += " (" + f.Resource + ")"
	}
	return fmt.Sprintf("%s %s [%s] %s: %s", f.Severity, f.Code, f.Target, where, f.Message)
}

// Check is one rule.
type Check struct {
	Code      string
	Name      string
	Severity  Severity
	Summary   string // one line: what it catches
	Rationale string // why it matters in a cluster
	// Target runs on each rendered target; Repo runs once on the whole
	// repository. A check sets one of them.
	Target func(ix *index.Index, env *Env) []Finding
	Repo   func(repo *Repo, env *Env) []Finding
	// Catalogue, when set, lists the codes the check reports under a
	// catalogue that is not messages.yaml (Istio's, for IstioAnalyzers):
	// its findings carry those codes, not the check's Code.
	Catalogue func() []Message
}

// Env is the configuration the checks share.
type Env struct {
	// RootNamespace is Istio's root namespace, where a WasmPlugin applies to
	// every namespace.
	RootNamespace string
	// Istio validates Istio resources as the cluster would.
	Istio *istio.Validator
	// GitOps validates Flux and Argo CD objects against their CRDs.
	GitOps *crdschema.Validator
	// GatewayAPI validates Gateway API objects against the standard
	// channel's CRDs (validate/gatewayapi).
	GatewayAPI *crdschema.Validator
	// Tree is the repository the targets were rendered from.
	Tree *render.Tree
	// Mesh asks istiod's code about each target (validate/mesh); nil skips
	// the checks that need its answer, and WP001/WP002 fall back to their rules.
	Mesh *mesh.Session
	// Platforms are the platforms the repository installs, by target ID
	// (index.Target.ID()): mesh.DerivePlatform over the Istio releases of
	// the target's cluster, with platform.yaml's disagreements. A target
	// without one lands on Mesh's platform (platform.yaml, or Istio's default
	// profile), and PLT001 and PLT003, which need a release, do not run.
	Platforms map[string]*DerivedPlatform
	// Analyzer runs Istio's analyzers (validate/analyze); nil skips them.
	Analyzer *analyze.Analyzer
	// Analyzers, when set, gives the analyzer of the platform a target
	// lands on (Platforms); nil, or a nil result, is Analyzer.
	Analyzers func(ix *index.Index) *analyze.Analyzer
}

// Repo is every rendered target of the repository.
type Repo struct {
	Tree    *render.Tree
	Targets []*index.Index
	// Failed lists targets that did not render, by directory (by ID for
	// an entry point).
	Failed map[string]error
	// Entries are the Flux Kustomizations and Argo CD Applications under
	// clusters/.
	Entries []*render.EntryPoint

	crdOnce sync.Once
	crds    *repoSchemas // the repository's own CRDs (schemas)
	// Helm maps each cluster scope (the folder of the entry points that
	// install them: clusters/dev/flux, clusters/dev/argocd) to the rendered
	// Helm releases it installs (targets of Kind render.FluxHelm and
	// render.ArgoHelm), which are not in Targets.
	Helm map[string][]*index.Index
}

// finding builds a finding of check c about object o.
func (c *Check) finding(ix *index.Index, o *index.Object, format string, args ...any) Finding {
	return Finding{
		Code:     c.Code,
		Severity: c.Severity,
		Target:   ix.Target.ID(),
		File:     o.Source,
		Resource: o.String(),
		Message:  oneLine(fmt.Sprintf(format, args...)),
		Line:     ix.Line(o.Source, o),
		object:   o,
	}
}

// oneLine folds a message onto one line: validators upstream (Istio's
// multierror, say) return lists across lines.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Run runs c on one target (a target check) and drops the findings the
// resources' ignore annotations silence. A check that panics gives one
// InternalError finding naming the check and the resource it failed on
// instead of its findings; the run goes on.
func (c *Check) Run(ix *index.Index, env *Env) []Finding {
	if c.Target == nil {
		return nil
	}
	if _, skip := notOnCharts[c.Code]; skip && ix.Target.Kind.IsHelm() {
		return nil
	}
	out, panicked := c.runTarget(ix, env)
	if panicked != nil {
		return []Finding{c.internalError(ix, env, panicked)}
	}
	return unignored(out)
}

// runTarget runs c.Target, returning what it panicked with, if it did.
func (c *Check) runTarget(ix *index.Index, env *Env) (out []Finding, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			out, panicked = nil, r
		}
	}()
	return c.Target(ix, env), nil
}

// RunRepo runs c on the whole repository (a repository check); a panic
// becomes one InternalError finding, as in Run.
func (c *Check) RunRepo(repo *Repo, env *Env) (out []Finding) {
	if c.Repo == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			ic := InternalError
			out = []Finding{{Code: ic.Code, Severity: ic.Severity, File: ".", Message: oneLine(fmt.Sprintf(
				"check %s (%s) failed on this repository: %v; please report it with the input", c.Code, c.Name, r))}}
		}
	}()
	return unignored(c.Repo(repo, env))
}

func unignored(in []Finding) []Finding {
	out := in[:0]
	for _, f := range in {
		if f.object == nil || !Ignored(f.object, f.Code) {
			out = append(out, f)
		}
	}
	return out
}

// Sort orders findings by file, target, code, resource and message, so that
// every run prints the same report.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File == b.File && a.Line != b.Line {
			return a.Line < b.Line
		}
		for _, pair := range [][2]string{{a.File, b.File}, {a.Target, b.Target}, {a.Code, b.Code}, {a.Resource, b.Resource}, {a.Message, b.Message}} {
			if pair[0] != pair[1] {
				return pair[0] < pair[1]
			}
		}
		return false
	})
}

// RemoteReference reports kustomizations that reach for the network.
var RemoteReference = catalogued("RN001")

// RenderFailure reports a target that Kustomize (or the validator's own
// reading of its sources) could not render.
var RenderFailure = catalogued("RN002")

// findingIn is finding, naming file as the one to edit (a patch that sets
// the offending field, say) instead of the file that declared o.
func (c *Check) findingIn(ix *index.Index, o *index.Object, file, format string, args ...any) Finding {
	f := c.finding(ix, o, format, args...)
	if file != "" && file != f.File {
		f.File, f.Line = file, ix.Line(file, o)
	}
	return f
}

// fieldPath matches the first spec field path in a validation message
// ("spec.phase: Unsupported value", "unknown field \"spec.template.spec.x\"",
// "spec.http[0].route[1].destination.host: ...").
var fieldPath = regexp.MustCompile(`\bspec(\.[A-Za-z0-9_]+|\[[0-9]+\])*`)

// messageField returns the path of the first spec field a message names,
// for FieldSource and FieldLine: map keys, and list indexes as numbers.
func messageField(msg string) []string {
	return index.FieldPath(fieldPath.FindString(msg))
}

// All returns every check, ordered by code.
func All() []*Check {
	all := []*Check{
		WasmPluginReach, SidecarReach, WasmPluginTargeting, IstioSchema, IstioWebhook,
		PluginImage, PluginImageReference, PluginImagePin, PluginImageDigest, PluginPullSecret, PluginConfig, RouteGateways, RouteHosts, RouteDestinations,
		ServiceSelector, ServiceTargetPort, DeploymentSelector, KubernetesSchema, KubernetesNames,
		PinnedImages, OverlayPinsBaseImages, RouteDestinationPort, EntryPointPaths, GitOpsSchema, RepoURLs, UndeployedOverlay,
		PlaintextSecret, RemoteReference, RenderFailure, InternalError, MetadataFields, DataSize, ObjectSize, IstioMetadata, ServicePortProtocol, RouteConflicts, GatewayConflicts,
		ProbePort, RequestsWithinLimits, RouteProtocol, PluginDigest,
		PodTemplateRules, ServiceRules, WorkloadRules, FluxVariables, FluxDependsOn, EditSelectsNothing,
		InjectionByAnnotation, PluginType, PluginMatch, RouteSubset, RouteReach, GatewaySelector, PilotFailed,
		GatewayReleaseUnselected, GatewayPortNotOnService, PlatformDisagreement, GatewayReleaseNotInjected,
		GatewayAPISchema, GatewayAPIClass, GatewayAPIParent, GatewayAPINotAllowed, GatewayAPIBackend, GatewayAPIBackendPort,
		GatewayAPIRefPermitted, GatewayAPIBackendKind, GatewayAPIHostname,
		HPATarget, HPAReplicas, PDBSelector, PDBBlocksDrain, NetworkPolicyPort, MTLSPlaintextToStrict, AuthzPrincipalsWithoutJWT,
		CertificateNamespace, FluxHealthChecks, ProjectSourceRepos, ProjectDestinations, ProjectResources, CustomSchema, RouteNoCluster,
		ChartNotCached, HelmRenderFailure, OneIstio, HelmNotApplied, PlatformIstioVersion,
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Code < all[j].Code })
	return all
}

// Ignored reports whether o's ignore annotation lists code.
func Ignored(o *index.Object, code string) bool {
	for _, c := range strings.Split(o.Annotations()[IgnoreAnnotation], ",") {
		if strings.EqualFold(strings.TrimSpace(c), code) {
			return true
		}
	}
	return false
}

// findingAt is finding about the field at path of o (map keys, and list
// indexes as numbers: pathOf): it names the file that sets the field (a
// patch, or the file that declares o) and the line of the field there, or
// of the list element.
func (c *Check) findingAt(ix *index.Index, o *index.Object, path []string, format string, args ...any) Finding {
	var keys []string
	for _, k := range path {
		if k != "" {
			keys = append(keys, k)
		}
	}
	f := c.finding(ix, o, format, args...)
	f.File = ix.FieldSource(o, keys...)
	f.Line = ix.FieldLine(f.File, o, keys...)
	return f
}

// findingImage is findingIn, in the kustomization whose images: entry pins
// image, at that entry's line.
func (c *Check) findingImage(ix *index.Index, o *index.Object, file, image, format string, args ...any) Finding {
	f := c.findingIn(ix, o, file, format, args...)
	if f.Line == 0 && file != "" {
		f.Line = ix.ImageLine(file, image)
	}
	return f
}

// AnalyzerFor is Istio's analyzer for the platform ix lands on.
func (env *Env) AnalyzerFor(ix *index.Index) *analyze.Analyzer {
	if env.Analyzers != nil {
		if a := env.Analyzers(ix); a != nil {
			return a
		}
	}
	return env.Analyzer
}
