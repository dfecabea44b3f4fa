package check

import (
	"encoding/json"
	"path"
	"sort"
	"strconv"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// EntryPointPaths checks what Argo CD and Flux would sync.
var EntryPointPaths = &Check{
	Code:     "GO001",
	Name:     "entry-point-path",
	Severity: Error,
	Summary:  "each Flux Kustomization path and Argo CD Application source path under clusters/ is a directory of the repository that renders",
	Rationale: "A path that does not exist or does not build fails the sync in the cluster, after the merge; Flux and Argo CD " +
		"report it only in their own status.",
}

// GitOpsSchema validates Flux and Argo CD objects against their CRDs.
var GitOpsSchema = &Check{
	Code:     "GO002",
	Name:     "gitops-schema",
	Severity: Error,
	Summary:  "Flux Kustomizations and GitRepositories and Argo CD Applications and AppProjects pass their CRDs' validation (embedded from the pinned releases); Flux objects also decode strictly into the fluxcd API types",
	Rationale: "The API server rejects a missing required field (prune, interval, sourceRef), a bad enum value or an unserved " +
		"apiVersion, failing the bootstrap; it drops a misspelt optional field (wiat: true, selfheal: true), which then silently does nothing.",
}

// RepoURLs keeps every entry point on the same repository.
var RepoURLs = &Check{
	Code:     "GO003",
	Name:     "repo-url-mismatch",
	Severity: Error,
	Summary:  "every GitRepository url and Application repoURL under clusters/ names the same repository",
	Rationale: "A fork that replaces the placeholder URL in some entry points but not others deploys one environment from " +
		"the upstream repository, or from nowhere.",
}

// UndeployedOverlay warns about an environment no cluster syncs.
var UndeployedOverlay = &Check{
	Code:      "GO004",
	Name:      "overlay-not-deployed",
	Severity:  Warning,
	Summary:   "every overlay is the path of some Flux Kustomization or Argo CD Application under clusters/",
	Rationale: "An overlay no entry point syncs is dead configuration: bumps to it change nothing in any cluster.",
}

func init() {
	EntryPointPaths.Repo = entryPointPaths
	GitOpsSchema.Target = gitopsSchema
	RepoURLs.Repo = repoURLs
	UndeployedOverlay.Repo = undeployedOverlay
}

// entryPoint is one path a GitOps object syncs.
type entryPoint struct {
	ix   *index.Index
	obj  *index.Object
	path string // repository-relative, cleaned
	what string // "spec.path"
}

func entryPoints(repo *Repo) []entryPoint {
	var out []entryPoint
	for _, ix := range repo.Targets {
		if ix.Target.Kind != render.Cluster {
			continue
		}
		for _, o := range ix.Objects {
			switch {
			case o.Kind == "Kustomization" && o.Group == "kustomize.toolkit.fluxcd.io":
				out = append(out, entryPoint{ix, o, cleanRepoPath(str(o.Spec(), "path")), "spec.path"})
			case o.Kind == "Application" && o.Group == "argoproj.io":
				if src := mapOf(o.Spec(), "source"); src != nil {
					out = append(out, entryPoint{ix, o, cleanRepoPath(str(src, "path")), "spec.source.path"})
				}
				for i, s := range listOf(o.Spec(), "sources") {
					src, _ := s.(map[string]any)
					if p := str(src, "path"); p != "" {
						out = append(out, entryPoint{ix, o, cleanRepoPath(p), "spec.sources[" + strconv.Itoa(i) + "].path"})
					}
				}
			}
		}
	}
	return out
}

func cleanRepoPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

func entryPointPaths(repo *Repo, env *Env) []Finding {
	c := EntryPointPaths
	rendered := map[string]bool{}
	for _, ix := range repo.Targets {
		rendered[ix.Target.Dir] = true
	}
	var out []Finding
	for _, ep := range entryPoints(repo) {
		switch {
		case ep.path == "" || ep.path == ".":
			out = append(out, c.finding(ep.ix, ep.obj, "%s is empty: it would sync the whole repository; point it at an overlay", ep.what))
		case !repo.Tree.IsDir(ep.path):
			out = append(out, c.finding(ep.ix, ep.obj, "%s %q is not a directory of the repository", ep.what, ep.path))
		case repo.Failed[ep.path] != nil:
			out = append(out, c.finding(ep.ix, ep.obj, "%s %q does not render: %v", ep.what, ep.path, repo.Failed[ep.path]))
		case !rendered[ep.path]:
			tg := render.Target{Kind: render.Overlay, Dir: ep.path, Generated: render.KustomizationFile(repo.Tree, ep.path) == ""}
			if _, err := render.Render(repo.Tree, tg); err != nil {
				out = append(out, c.finding(ep.ix, ep.obj, "%s %q does not render: %v", ep.what, ep.path, err))
			}
		}
	}
	return out
}

// gitopsGroups are the Flux and Argo CD API groups whose objects GO002 validates.
var gitopsGroups = map[string]bool{
	"kustomize.toolkit.fluxcd.io": true, "source.toolkit.fluxcd.io": true, "argoproj.io": true,
}

func gitopsSchema(ix *index.Index, env *Env) []Finding {
	c := GitOpsSchema
	var out []Finding
	for _, o := range ix.Objects {
		if !gitopsGroups[o.Group] || o.Content == nil || env.GitOps == nil || !env.GitOps.ServesGroupKind(o.Group, o.Kind) {
			continue
		}
		if err := env.GitOps.Validate(o.Content); err != nil {
			out = append(out, c.findingIn(ix, o, ix.FieldSource(o, messageField(err.Error())...), "rejected by the %s CRD: %v", o.Kind, err))
			continue
		}
		// The CRD prunes what it does not know only where it preserves unknown
		// fields; Flux's own Go types catch the rest.
		var into any
		switch {
		case o.Kind == "Kustomization" && o.Group == "kustomize.toolkit.fluxcd.io" && o.Version == "v1":
			into = &kustomizev1.Kustomization{}
		case o.Kind == "GitRepository" && o.Group == "source.toolkit.fluxcd.io" && o.Version == "v1":
			into = &sourcev1.GitRepository{}
		default:
			continue
		}
		raw, _ := json.Marshal(o.Content)
		if err := yaml.UnmarshalStrict(raw, into); err != nil {
			out = append(out, c.finding(ix, o, "%v", err))
		}
	}
	return out
}

// normalizeRepoURL reduces the spellings of one repository to host/path:
// https://github.com/acme/meshops.git, ssh://git@github.com/acme/meshops
// (what flux bootstrap writes) and git@github.com:acme/meshops agree.
func normalizeRepoURL(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if at := strings.Index(u, "@"); at >= 0 && strings.Contains(u[at:], ":") {
		u = strings.Replace(u, ":", "/", 1) // scp-like git@host:path
	}
	if at := strings.LastIndex(u, "@"); at >= 0 && at < strings.Index(u+"/", "/") {
		u = u[at+1:] // user info
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return strings.ToLower(u)
}

func repoURLs(repo *Repo, _ *Env) []Finding {
	c := RepoURLs
	type use struct {
		ix  *index.Index
		obj *index.Object
		url string
	}
	var uses []use
	for _, ix := range repo.Targets {
		if ix.Target.Kind != render.Cluster {
			continue
		}
		for _, o := range ix.Objects {
			switch {
			case o.Kind == "GitRepository" && o.Group == "source.toolkit.fluxcd.io":
				uses = append(uses, use{ix, o, str(o.Spec(), "url")})
			case o.Kind == "Application" && o.Group == "argoproj.io":
				if u := str(mapOf(o.Spec(), "source"), "repoURL"); u != "" {
					uses = append(uses, use{ix, o, u})
				}
			}
		}
	}
	count := map[string]int{}
	for _, u := range uses {
		count[normalizeRepoURL(u.url)]++
	}
	if len(count) < 2 {
		return nil
	}
	urls := make([]string, 0, len(count))
	for u := range count {
		urls = append(urls, u)
	}
	sort.Slice(urls, func(i, j int) bool {
		if count[urls[i]] != count[urls[j]] {
			return count[urls[i]] > count[urls[j]]
		}
		return urls[i] < urls[j]
	})
	majority := urls[0]
	var out []Finding
	for _, u := range uses {
		if normalizeRepoURL(u.url) != majority {
			out = append(out, c.finding(u.ix, u.obj, "repository %q differs from %q, which the other %d entry point(s) use: replace it in every entry point", u.url, majority, count[majority]))
		}
	}
	return out
}

func undeployedOverlay(repo *Repo, _ *Env) []Finding {
	c := UndeployedOverlay
	deployed := map[string]bool{}
	for _, ep := range entryPoints(repo) {
		deployed[ep.path] = true
	}
	var out []Finding
	for _, ix := range repo.Targets {
		if ix.Target.Kind == render.Overlay && !deployed[ix.Target.Dir] {
			out = append(out, Finding{
				Code: c.Code, Severity: c.Severity, Target: ix.Target.Dir,
				File:    path.Join(ix.Target.Dir, "kustomization.yaml"),
				Message: "no Flux Kustomization or Argo CD Application under clusters/ deploys this overlay: add an entry point or delete the overlay",
			})
		}
	}
	return out
}
