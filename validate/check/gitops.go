package check

import (
	"path"
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// entryPoint is one path a GitOps object syncs.
type entryPoint struct {
	ix   *index.Index
	obj  *index.Object
	path string // repository-relative, cleaned
	what string // "spec.path"
}

// clusterObjects calls visit, once per object, for every object a folder
// that declares entry points renders: the cluster folders, and the paths
// entry points apply, where an app-of-apps keeps its child Applications.
func clusterObjects(repo *Repo, visit func(ix *index.Index, o *index.Object)) {
	type key struct{ source, kind, namespace, name string }
	seen := map[key]bool{}
	for _, ix := range repo.Targets {
		if ix.Target.Kind != render.Cluster && ix.Target.Entry == nil {
			continue
		}
		for _, o := range ix.Objects {
			k := key{o.Source, o.Kind, o.Namespace, o.Name}
			if seen[k] {
				continue
			}
			seen[k] = true
			visit(ix, o)
		}
	}
}

func entryPoints(repo *Repo) []entryPoint {
	var out []entryPoint
	clusterObjects(repo, func(ix *index.Index, o *index.Object) {
		switch {
		case o.Kind == "Kustomization" && o.Group == "kustomize.toolkit.fluxcd.io":
			out = append(out, entryPoint{ix, o, cleanRepoPath(str(o.Spec(), "path")), "spec.path"})
		case o.Kind == "Application" && o.Group == "argoproj.io":
			if src := mapOf(o.Spec(), "source"); src != nil && src["chart"] == nil {
				out = append(out, entryPoint{ix, o, cleanRepoPath(str(src, "path")), "spec.source.path"})
			}
			for i, s := range listOf(o.Spec(), "sources") {
				src, _ := s.(map[string]any)
				if p := str(src, "path"); p != "" && src["chart"] == nil {
					out = append(out, entryPoint{ix, o, cleanRepoPath(p), "spec.sources[" + strconv.Itoa(i) + "].path"})
				}
			}
		}
	})
	return out
}

func cleanRepoPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
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
