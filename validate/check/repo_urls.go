package check

import (
	"sort"

	"meshops.dev/meshops/validate/index"
)

// RepoURLs keeps every entry point on the same repository.
var RepoURLs = catalogued("GO003")

func repoURLs(repo *Repo, _ *Env) []Finding {
	c := RepoURLs
	type use struct {
		ix  *index.Index
		obj *index.Object
		url string
	}
	var uses []use
	clusterObjects(repo, func(ix *index.Index, o *index.Object) {
		switch {
		case o.Kind == "GitRepository" && o.Group == "source.toolkit.fluxcd.io":
			uses = append(uses, use{ix, o, str(o.Spec(), "url")})
		case o.Kind == "Application" && o.Group == "argoproj.io":
			// A Helm chart comes from a Helm repository, not this one.
			if src := mapOf(o.Spec(), "source"); src["chart"] == nil && str(src, "repoURL") != "" {
				u := str(src, "repoURL")
				uses = append(uses, use{ix, o, u})
			}
		}
	})
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

func init() {
	RepoURLs.Repo = repoURLs
}
