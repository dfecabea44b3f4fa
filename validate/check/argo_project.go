package check

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/gobwas/glob"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// The AppProject rules below are Argo CD's own (argo-cd v3.5,
// pkg/apis/application/v1alpha1/app_project_types.go): IsSourcePermitted,
// isDestinationMatched and IsGroupKindNamePermitted, with globMatch (a
// leading "!" negates; gobwas/glob, Argo CD's util/glob, with '/' as the
// separator for repositories) and filepath.Match for resource kinds
// (types.go, isResourceInList / isNamedResourceInList). The application
// controller refuses to sync an Application its project does not permit
// (controller/appcontroller.go: "application repo ... is not permitted in
// project", "application destination ... is not permitted", and a resource
// "is not permitted in project" for each refused kind), so nothing of it
// reaches the cluster. An Application whose project the repository does not
// declare (the default project, or one managed elsewhere) is not checked.
var (
	ProjectSourceRepos  = catalogued("GO009")
	ProjectDestinations = catalogued("GO010")
	ProjectResources    = catalogued("GO011")
)

func init() {
	ProjectSourceRepos.Repo = projectSourceRepos
	ProjectDestinations.Repo = projectDestinations
	ProjectResources.Repo = projectResources
}

// argoProject is a declared AppProject with the target it was rendered in.
type argoProject struct {
	ix *index.Index
	o  *index.Object
}

// projectOf returns the AppProject an Argo CD entry point belongs to.
func projectOf(repo *Repo, e *render.EntryPoint) (argoProject, bool) {
	name := str(mapOf(e.Object, "spec"), "project")
	if name == "" {
		name = "default"
	}
	for _, ix := range repo.Targets {
		for _, o := range ix.GroupKind("argoproj.io", "AppProject") {
			if o.Name == name && (o.Namespace == e.Namespace || o.Namespace == "") {
				return argoProject{ix, o}, true
			}
		}
	}
	return argoProject{}, false
}

// argoEntries calls visit for each Argo CD Application with a declared project.
func argoEntries(repo *Repo, visit func(e *render.EntryPoint, p argoProject)) {
	for _, e := range repo.Entries {
		if e.Engine != render.ArgoCD || e.Kind != "Application" {
			continue
		}
		if p, ok := projectOf(repo, e); ok {
			visit(e, p)
		}
	}
}

// argoGlobMatch is Argo CD's globMatch.
func argoGlobMatch(pattern, val string, allowNegation bool, separators ...rune) bool {
	if allowNegation && strings.HasPrefix(pattern, "!") {
		return !argoGlob(pattern[1:], val, separators...)
	}
	if pattern == "*" {
		return true
	}
	return argoGlob(pattern, val, separators...)
}

// argoGlob is Argo CD's util/glob.Match: a pattern that does not compile
// matches nothing.
func argoGlob(pattern, text string, separators ...rune) bool {
	g, err := glob.Compile(pattern, separators...)
	return err == nil && g.Match(text)
}

var argoSSHURL = regexp.MustCompile(`^(ssh://)?([^/:]*?)@[^@]+$`)

// argoNormalizeGitURL is Argo CD's util/git.NormalizeGitURL.
func argoNormalizeGitURL(repo string) string {
	repo = strings.ToLower(strings.TrimSpace(repo))
	if argoSSHURL.MatchString(repo) && !strings.HasPrefix(repo, "ssh://") {
		repo = "ssh://" + strings.Replace(repo, ":", "/", 1)
	}
	repo = strings.TrimSuffix(repo, ".git")
	u, err := url.Parse(repo)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.String(), "ssh://")
}

// sourcePermitted is Argo CD's AppProject.IsSourcePermitted.
func sourcePermitted(sourceRepos []string, repoURL string) bool {
	src := argoNormalizeGitURL(repoURL)
	any := false
	for _, r := range sourceRepos {
		var n string
		if strings.HasPrefix(r, "!") {
			n = "!" + argoNormalizeGitURL(strings.TrimPrefix(r, "!"))
		} else {
			n = argoNormalizeGitURL(r)
		}
		matched := argoGlobMatch(n, src, true, '/')
		if matched {
			any = true
		} else if strings.HasPrefix(n, "!") {
			return false
		}
	}
	return any
}

type argoDest struct{ Server, Name, Namespace string }

// destinationMatched is Argo CD's AppProject.isDestinationMatched.
func destinationMatched(items []argoDest, dst argoDest) bool {
	any := false
	for _, item := range items {
		nameMatched := dst.Name != "" && argoGlobMatch(item.Name, dst.Name, true)
		serverMatched := dst.Server != "" && argoGlobMatch(item.Server, dst.Server, true)
		nsMatched := argoGlobMatch(item.Namespace, dst.Namespace, true)
		matched := (serverMatched || nameMatched) && nsMatched
		switch {
		case matched:
			any = true
		case (!nameMatched && strings.HasPrefix(item.Name, "!")) || (!serverMatched && strings.HasPrefix(item.Server, "!")) && nsMatched:
			return false
		case !nsMatched && strings.HasPrefix(item.Namespace, "!") && serverMatched:
			return false
		}
	}
	return any
}

type groupKindName struct{ Group, Kind, Name string }

// inList is Argo CD's isNamedResourceInList (isResourceInList when names are empty).
func inList(group, kind, name string, list []groupKindName) bool {
	for _, item := range list {
		if ok, err := filepath.Match(item.Kind, kind); !ok || err != nil {
			continue
		}
		if ok, err := filepath.Match(item.Group, group); !ok || err != nil {
			continue
		}
		if item.Name == "" {
			return true
		}
		if ok, err := filepath.Match(item.Name, name); ok && err == nil {
			return true
		}
	}
	return false
}

func gkList(spec map[string]any, key string) ([]groupKindName, bool) {
	raw, set := spec[key]
	if !set || raw == nil {
		return nil, false
	}
	var out []groupKindName
	for _, v := range listOf(spec, key) {
		m, _ := v.(map[string]any)
		out = append(out, groupKindName{str(m, "group"), str(m, "kind"), str(m, "name")})
	}
	return out, true
}

// kindPermitted is Argo CD's AppProject.IsGroupKindNamePermitted.
func kindPermitted(spec map[string]any, group, kind, name string, namespaced bool) bool {
	if namespaced {
		white, whiteSet := gkList(spec, "namespaceResourceWhitelist")
		black, _ := gkList(spec, "namespaceResourceBlacklist")
		return (!whiteSet || len(white) != 0 && inList(group, kind, "", white)) && !(len(black) != 0 && inList(group, kind, "", black))
	}
	white, _ := gkList(spec, "clusterResourceWhitelist")
	black, _ := gkList(spec, "clusterResourceBlacklist")
	return len(white) != 0 && inList(group, kind, name, white) && !(len(black) != 0 && inList(group, kind, name, black))
}

// projectFinding is a finding at field of the AppProject about entry point e.
func projectFinding(c *Check, p argoProject, field string, e *render.EntryPoint, format string, args ...any) Finding {
	f := c.findingAt(p.ix, p.o, []string{"spec", field}, format, args...)
	f.Message = oneLine(fmt.Sprintf("%s (%s:%d): ", e, e.File, e.Line) + f.Message)
	return f
}

func appSources(e *render.EntryPoint) []string {
	spec := mapOf(e.Object, "spec")
	var out []string
	if src := mapOf(spec, "source"); src != nil {
		out = append(out, str(src, "repoURL"))
	}
	for _, s := range listOf(spec, "sources") {
		m, _ := s.(map[string]any)
		out = append(out, str(m, "repoURL"))
	}
	return out
}

func projectSourceRepos(repo *Repo, _ *Env) []Finding {
	c := ProjectSourceRepos
	var out []Finding
	argoEntries(repo, func(e *render.EntryPoint, p argoProject) {
		var repos []string
		for _, v := range listOf(p.o.Spec(), "sourceRepos") {
			s, _ := v.(string)
			repos = append(repos, s)
		}
		for _, u := range appSources(e) {
			if !sourcePermitted(repos, u) {
				out = append(out, projectFinding(c, p, "sourceRepos", e, "AppProject %s's sourceRepos do not permit %s: Argo CD refuses to sync the Application (application repo is not permitted in project)", p.o.Name, u))
			}
		}
	})
	return out
}

// appDestination returns the Application's destination, with the in-cluster
// name and server paired as Argo CD's cluster cache pairs them.
func appDestination(e *render.EntryPoint) argoDest {
	d := mapOf(mapOf(e.Object, "spec"), "destination")
	dst := argoDest{Server: str(d, "server"), Name: str(d, "name"), Namespace: str(d, "namespace")}
	const inCluster = "https://kubernetes.default.svc"
	switch {
	case dst.Server == inCluster && dst.Name == "":
		dst.Name = "in-cluster"
	case dst.Name == "in-cluster" && dst.Server == "":
		dst.Server = inCluster
	}
	return dst
}

func projectDestinations(repo *Repo, _ *Env) []Finding {
	c := ProjectDestinations
	var out []Finding
	argoEntries(repo, func(e *render.EntryPoint, p argoProject) {
		var items []argoDest
		for _, v := range listOf(p.o.Spec(), "destinations") {
			m, _ := v.(map[string]any)
			items = append(items, argoDest{str(m, "server"), str(m, "name"), str(m, "namespace")})
		}
		dst := appDestination(e)
		namespaces := map[string]bool{dst.Namespace: true}
		if ix := entryIndex(repo, e); ix != nil {
			for _, o := range ix.Objects {
				if o.Namespace != "" {
					namespaces[o.Namespace] = true
				}
			}
		}
		var refused []string
		for ns := range namespaces {
			d := dst
			d.Namespace = ns
			if !destinationMatched(items, d) {
				refused = append(refused, ns)
			}
		}
		sort.Strings(refused)
		if len(refused) > 0 {
			server := dst.Server
			if server == "" {
				server = dst.Name
			}
			out = append(out, projectFinding(c, p, "destinations", e, "AppProject %s's destinations do not permit cluster %s, namespace(s) %s, which the Application deploys to: Argo CD refuses the sync (application destination is not permitted in project)", p.o.Name, server, strings.Join(refused, ", ")))
		}
	})
	return out
}

func projectResources(repo *Repo, _ *Env) []Finding {
	c := ProjectResources
	var out []Finding
	argoEntries(repo, func(e *render.EntryPoint, p argoProject) {
		ix := entryIndex(repo, e)
		if ix == nil {
			return
		}
		spec := p.o.Spec()
		var cluster, namespaced []string
		for _, o := range ix.Objects {
			if kindPermitted(spec, o.Group, o.Kind, o.Name, o.Namespace != "") {
				continue
			}
			if o.Namespace == "" {
				cluster = append(cluster, o.String())
			} else {
				namespaced = append(namespaced, o.String())
			}
		}
		if len(cluster) > 0 {
			out = append(out, projectFinding(c, p, "clusterResourceWhitelist", e, "AppProject %s does not permit the cluster-scoped %s the Application syncs (clusterResourceWhitelist, clusterResourceBlacklist): Argo CD refuses the sync (resource is not permitted in project)", p.o.Name, strings.Join(cluster, ", ")))
		}
		if len(namespaced) > 0 {
			field := "namespaceResourceWhitelist"
			if _, ok := spec[field]; !ok {
				field = "namespaceResourceBlacklist"
			}
			out = append(out, projectFinding(c, p, field, e, "AppProject %s does not permit %s, which the Application syncs (namespaceResourceWhitelist, namespaceResourceBlacklist): Argo CD refuses the sync (resource is not permitted in project)", p.o.Name, strings.Join(namespaced, ", ")))
		}
	})
	return out
}
