package fork

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// Current is what the manifests use today, found by reading them: the
// placeholders of a fresh clone, or a fork's own values on a second run.
type Current struct {
	// Repo is the git URL most entry points clone (Flux GitRepository
	// spec.url, Argo CD repoURL); "" if there is none. RepoSpellings are
	// every URL of the entry points that names the same repository
	// (https://host/org/repo.git, ssh://git@host/org/repo, git@host:org/repo).
	Repo          string
	RepoSpellings []string
	// Registry is the image repository of the WasmPlugins' oci:// urls,
	// without scheme, tag or digest; "" if there is none.
	Registry string
	// Domain is the longest DNS suffix every Gateway and VirtualService host
	// of every rendered target shares (each host keeps at least its first
	// label); Hosts are those hosts.
	Domain string
	Hosts  []string
}

// file is one YAML file of the repository, parsed.
type file struct {
	rel  string
	src  []byte
	docs []*yaml.Node
}

// skipDir reports whether a directory holds no manifests a fork edits:
// VCS data and dot folders, build output, test fixtures and dependencies.
func skipDir(name string) bool {
	switch name {
	case "bin", "node_modules", "testdata", "vendor":
		return true
	}
	return strings.HasPrefix(name, ".")
}

// readFiles parses every .yaml and .yml file of the repository at root.
func readFiles(root string) ([]*file, error) {
	var files []*file
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || (!strings.HasSuffix(d.Name(), ".yaml") && !strings.HasSuffix(d.Name(), ".yml")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		docs, err := documents(rel, src)
		if err != nil {
			return err
		}
		files = append(files, &file{rel: rel, src: src, docs: docs})
		return nil
	})
	return files, err
}

// get follows mapping keys from n; nil when a key is missing.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// eachKey calls f with every value of key anywhere below n.
func eachKey(n *yaml.Node, key string, f func(*yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				f(n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		eachKey(c, key, f)
	}
}

// eachSource calls f on every mapping that holds a repoURL: an Argo CD
// source, or an ApplicationSet git generator.
func eachSource(n *yaml.Node, f func(*yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "repoURL" {
				f(n)
				break
			}
		}
	}
	for _, c := range n.Content {
		eachSource(c, f)
	}
}

// mostCommon returns the value counted most often (the smallest on a tie).
func mostCommon(counts map[string]int) string {
	best := ""
	for v, c := range counts {
		if c > counts[best] || (c == counts[best] && v < best) {
			best = v
		}
	}
	return best
}

// pluginRepository strips oci://, a digest and a tag from a WasmPlugin url.
func pluginRepository(u string) string {
	r, ok := strings.CutPrefix(u, "oci://")
	if !ok {
		return ""
	}
	r, _, _ = strings.Cut(r, "@")
	if slash := strings.LastIndexByte(r, '/'); slash >= 0 {
		if colon := strings.IndexByte(r[slash:], ':'); colon >= 0 {
			r = r[:slash+colon]
		}
	}
	return r
}

// detect finds the current values in the parsed files and, for the hosts, in
// what every target of the repository at root renders.
func detect(root string, files []*file) (Current, error) {
	var cur Current
	repos, plugins := map[string]int{}, map[string]int{}
	for _, f := range files {
		for _, d := range f.docs {
			if len(d.Content) == 0 {
				continue
			}
			doc := d.Content[0]
			apiVersion, kind := scalar(get(doc, "apiVersion")), scalar(get(doc, "kind"))
			switch {
			case kind == "GitRepository" && strings.HasPrefix(apiVersion, "source.toolkit.fluxcd.io/"):
				if u := scalar(get(doc, "spec", "url")); u != "" {
					repos[u]++
				}
			case strings.HasPrefix(apiVersion, "argoproj.io/"):
				// A source with a chart comes from a Helm repository (Istio's
				// charts), not this one.
				eachSource(doc, func(src *yaml.Node) {
					if u := scalar(get(src, "repoURL")); u != "" && get(src, "chart") == nil {
						repos[u]++
					}
				})
			case kind == "WasmPlugin" && strings.HasPrefix(apiVersion, "extensions.istio.io/"):
				if r := pluginRepository(scalar(get(doc, "spec", "url"))); r != "" {
					plugins[r]++
				}
			}
		}
	}
	cur.Repo, cur.Registry = mostCommon(repos), mostCommon(plugins)
	for u := range repos {
		if cur.Repo != "" && sameRepository(u, cur.Repo) {
			cur.RepoSpellings = append(cur.RepoSpellings, u)
		}
	}
	sort.Strings(cur.RepoSpellings)

	hosts, err := renderedHosts(root)
	if err != nil {
		return cur, err
	}
	cur.Domain = commonSuffix(hosts)
	// The bases' hosts, which overlays patch away, change with the rest.
	all := map[string]bool{}
	for _, h := range hosts {
		all[h] = true
	}
	for _, f := range files {
		for _, d := range f.docs {
			if len(d.Content) == 0 || !strings.HasPrefix(scalar(get(d.Content[0], "apiVersion")), "networking.istio.io/") {
				continue
			}
			eachKey(d.Content[0], "hosts", func(n *yaml.Node) {
				for _, h := range n.Content {
					v := scalar(h)
					if i := strings.IndexByte(v, '/'); i >= 0 {
						v = v[i+1:]
					}
					if cur.Domain != "" && strings.HasSuffix(v, "."+cur.Domain) {
						all[v] = true
					}
				}
			})
		}
	}
	for h := range all {
		cur.Hosts = append(cur.Hosts, h)
	}
	sort.Strings(cur.Hosts)
	return cur, nil
}

// renderedHosts renders every target and lists the public host names of its
// Gateways (spec.servers[].hosts, without a namespace/ prefix) and
// VirtualServices (spec.hosts): names with a dot, not cluster-local.
func renderedHosts(root string) ([]string, error) {
	tree, err := render.LoadDir(root)
	if err != nil {
		return nil, err
	}
	targets, err := render.Discover(tree)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	add := func(h string) {
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[i+1:]
		}
		if strings.Contains(h, ".") && !strings.HasSuffix(h, ".local") {
			seen[h] = true
		}
	}
	for _, tg := range targets {
		res, err := kustomize.Render(tree, tg)
		if err != nil {
			return nil, fmt.Errorf("find the host names: %w", err)
		}
		for _, r := range res.Resources.Resources() {
			m, err := r.Map()
			if err != nil {
				continue
			}
			spec, _ := m["spec"].(map[string]any)
			switch {
			case r.GetKind() == "Gateway" && strings.HasPrefix(r.GetApiVersion(), "networking.istio.io/"):
				servers, _ := spec["servers"].([]any)
				for _, s := range servers {
					sm, _ := s.(map[string]any)
					hs, _ := sm["hosts"].([]any)
					for _, h := range hs {
						if hs, ok := h.(string); ok {
							add(hs)
						}
					}
				}
			case r.GetKind() == "VirtualService" && strings.HasPrefix(r.GetApiVersion(), "networking.istio.io/"):
				hs, _ := spec["hosts"].([]any)
				for _, h := range hs {
					if hs, ok := h.(string); ok {
						add(hs)
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out, nil
}

// commonSuffix is the longest run of trailing DNS labels every host shares,
// leaving each host at least one label of its own; "" if there is none.
func commonSuffix(hosts []string) string {
	if len(hosts) == 0 {
		return ""
	}
	split := make([][]string, len(hosts))
	shortest := -1
	for i, h := range hosts {
		split[i] = strings.Split(h, ".")
		if shortest < 0 || len(split[i]) < shortest {
			shortest = len(split[i])
		}
	}
	n := 0
	for ; n < shortest-1; n++ {
		label := split[0][len(split[0])-1-n]
		same := true
		for _, s := range split[1:] {
			if s[len(s)-1-n] != label {
				same = false
			}
		}
		if !same {
			break
		}
	}
	if n == 0 {
		return ""
	}
	first := split[0]
	return strings.Join(first[len(first)-n:], ".")
}

// sameRepository reports whether two git URLs name one repository, whatever
// the scheme, user, case, trailing slash or .git suffix (as GO003 compares them).
func sameRepository(a, b string) bool { return repositoryKey(a) == repositoryKey(b) }

func repositoryKey(u string) string {
	u = strings.TrimSpace(u)
	if m := scpLike.FindStringSubmatch(u); m != nil {
		u = m[2] + "/" + m[3]
	} else if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if at := strings.IndexByte(u, '@'); at >= 0 && at < strings.Index(u+"/", "/") {
			u = u[at+1:]
		}
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return strings.ToLower(u)
}
