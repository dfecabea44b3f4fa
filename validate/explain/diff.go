package explain

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"meshops.dev/meshops/validate/render"
)

// Overlays explains every overlay of tree, by environment name.
func Overlays(tree *render.Tree) (map[string]*Report, error) {
	targets, err := render.Discover(tree)
	if err != nil {
		return nil, err
	}
	out := map[string]*Report{}
	for _, tg := range targets {
		if tg.Kind != render.Overlay {
			continue
		}
		rep, err := Target(tree, tg)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", tg.Dir, err)
		}
		out[tg.Name()] = rep
	}
	return out, nil
}

// Changes lists, per environment, how the responses clients get change from
// base to head: "prod: responses from blog.example.com gain `x-environment: prod`".
func Changes(base, head map[string]*Report) []string {
	var envs []string
	for e := range head {
		envs = append(envs, e)
	}
	for e := range base {
		if head[e] == nil {
			envs = append(envs, e)
		}
	}
	sort.Strings(envs)
	var out []string
	for _, e := range envs {
		b, h := responses(base[e]), responses(head[e])
		var hosts []string
		for k := range h {
			hosts = append(hosts, k)
		}
		for k := range b {
			if _, ok := h[k]; !ok {
				hosts = append(hosts, k)
			}
		}
		sort.Strings(hosts)
		for _, host := range hosts {
			old, oldOK := b[host]
			cur, curOK := h[host]
			switch {
			case !oldOK:
				out = append(out, fmt.Sprintf("%s: %s is new: responses carry %s", e, host, formatHeaders(cur)))
				continue
			case !curOK:
				out = append(out, fmt.Sprintf("%s: %s no longer answers through the gateway", e, host))
				continue
			}
			var gain, lose, change []string
			for _, k := range sortedKeys(cur) {
				if v, ok := old[k]; !ok {
					gain = append(gain, fmt.Sprintf("`%s: %s`", k, cur[k]))
				} else if v != cur[k] {
					change = append(change, fmt.Sprintf("`%s: %s` -> `%s: %s`", k, v, k, cur[k]))
				}
			}
			for _, k := range sortedKeys(old) {
				if _, ok := cur[k]; !ok {
					lose = append(lose, fmt.Sprintf("`%s: %s`", k, old[k]))
				}
			}
			if len(gain) > 0 {
				out = append(out, fmt.Sprintf("%s: responses from %s gain %s", e, host, strings.Join(gain, ", ")))
			}
			if len(lose) > 0 {
				out = append(out, fmt.Sprintf("%s: responses from %s lose %s", e, host, strings.Join(lose, ", ")))
			}
			if len(change) > 0 {
				out = append(out, fmt.Sprintf("%s: responses from %s change %s", e, host, strings.Join(change, ", ")))
			}
		}
	}
	return out
}

// responses maps each host URL to the headers its response carries (the
// union over the workloads behind it; a 404/503 is the status alone).
func responses(rep *Report) map[string]map[string]string {
	out := map[string]map[string]string{}
	if rep == nil {
		return out
	}
	for _, h := range rep.Hosts {
		key := strings.TrimPrefix(h.URL, "http://")
		key = strings.TrimSuffix(key, "/")
		set := map[string]string{}
		switch {
		case h.Route.Error != "":
			set[":status"] = "404"
		case h.Route.ClusterMissing || len(h.Responses) == 0:
			set[":status"] = "503"
		}
		for _, r := range h.Responses {
			for k, v := range headerSet(r.Headers) {
				set[k] = v
			}
			for _, kv := range r.Headers {
				if kv[0] == ":status" && kv[1] != "200" {
					set[":status"] = kv[1]
				}
			}
		}
		out[key] = set
	}
	return out
}

func formatHeaders(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("`%s: %s`", k, m[k]))
	}
	if len(parts) == 0 {
		return "no header from the mesh"
	}
	return strings.Join(parts, ", ")
}

// WriteChanges prints the behaviour section of make diff.
func WriteChanges(w io.Writer, base, head *render.Tree) error {
	b, err := Overlays(base)
	if err != nil {
		return err
	}
	h, err := Overlays(head)
	if err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString("\nbehaviour (make explain: istiod's answer, the plugin run with the pushed config)\n")
	changes := Changes(b, h)
	if len(changes) == 0 {
		sb.WriteString("  no response changes\n")
	}
	for _, c := range changes {
		sb.WriteString("  " + c + "\n")
	}
	_, err = io.WriteString(w, sb.String())
	return err
}
