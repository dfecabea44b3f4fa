package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// This file expands an Argo CD ApplicationSet into the Applications its
// list, clusters and git-directory generators produce, with Argo CD's two
// template flavours: fasttemplate ({{path.basename}}, the default) and Go
// templates (goTemplate: true; {{.path.basename}}), without sprig's functions.

// inCluster is the cluster Argo CD always knows: the one it runs in.
var inCluster = map[string]any{"name": "in-cluster", "server": "https://kubernetes.default.svc"}

// expandApplicationSet returns the Applications an ApplicationSet generates.
func expandApplicationSet(t *Tree, d document, docs []document) ([]map[string]any, error) {
	spec, _ := d.obj["spec"].(map[string]any)
	fail := func(format string, args ...any) ([]map[string]any, error) {
		return nil, &EntryPointError{File: d.file, Line: d.line, Msg: "ApplicationSet " + metaString(d.obj, "name") + ": " + fmt.Sprintf(format, args...)}
	}
	tmpl, _ := spec["template"].(map[string]any)
	if tmpl == nil {
		return fail("spec.template is missing")
	}
	goTemplate, _ := spec["goTemplate"].(bool)
	generators, _ := spec["generators"].([]any)
	var apps []map[string]any
	for i, g := range generators {
		gen, _ := g.(map[string]any)
		var params []map[string]any
		switch {
		case gen["list"] != nil:
			list, _ := gen["list"].(map[string]any)
			elements, _ := list["elements"].([]any)
			for _, el := range elements {
				m, ok := el.(map[string]any)
				if !ok {
					return fail("generators[%d].list.elements: an element is not an object", i)
				}
				params = append(params, m)
			}
		case gen["clusters"] != nil:
			cg, _ := gen["clusters"].(map[string]any)
			params = clusterParams(cg, docs)
		case gen["git"] != nil:
			git, _ := gen["git"].(map[string]any)
			if git["files"] != nil {
				return fail("generators[%d].git.files is not expanded offline; use directories", i)
			}
			dirs, err := gitDirectories(t, git)
			if err != nil {
				return fail("generators[%d].git: %v", i, err)
			}
			for _, dir := range dirs {
				params = append(params, gitDirParams(dir, goTemplate))
			}
		default:
			keys := sortedKeys(gen)
			return fail("generators[%d] (%s) is not expanded offline: only list, clusters and git directories are", i, strings.Join(keys, ", "))
		}
		if !goTemplate {
			for j := range params {
				params[j] = flatten(params[j])
			}
		}
		if override, ok := gen["template"].(map[string]any); ok {
			return fail("generators[%d].template overrides are not expanded offline (%d keys)", i, len(override))
		}
		for _, p := range params {
			app, err := renderTemplate(tmpl, p, goTemplate)
			if err != nil {
				return fail("generators[%d]: %v", i, err)
			}
			app["apiVersion"] = "argoproj.io/v1alpha1"
			app["kind"] = "Application"
			meta, _ := app["metadata"].(map[string]any)
			if meta == nil {
				meta = map[string]any{}
				app["metadata"] = meta
			}
			if meta["namespace"] == nil {
				meta["namespace"] = metaString(d.obj, "namespace")
			}
			apps = append(apps, app)
		}
	}
	return apps, nil
}

// clusterParams are the clusters generator's parameters: one set per
// Argo CD cluster Secret the repository declares (label
// argocd.argoproj.io/secret-type: cluster) that the selector matches, and
// the in-cluster cluster when there is no selector.
func clusterParams(cg map[string]any, docs []document) []map[string]any {
	selector, _ := cg["selector"].(map[string]any)
	matchLabels, _ := selector["matchLabels"].(map[string]any)
	values, _ := cg["values"].(map[string]any)
	var out []map[string]any
	if len(selector) == 0 {
		out = append(out, map[string]any{"name": inCluster["name"], "nameNormalized": inCluster["name"], "server": inCluster["server"],
			"metadata": map[string]any{"labels": map[string]any{}, "annotations": map[string]any{}}})
	}
	for _, d := range docs {
		if d.obj["kind"] != "Secret" {
			continue
		}
		meta, _ := d.obj["metadata"].(map[string]any)
		labels, _ := meta["labels"].(map[string]any)
		if labels["argocd.argoproj.io/secret-type"] != "cluster" {
			continue
		}
		match := true
		for k, v := range matchLabels {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		data, _ := d.obj["stringData"].(map[string]any)
		name, _ := data["name"].(string)
		annotations, _ := meta["annotations"].(map[string]any)
		out = append(out, map[string]any{"name": name, "nameNormalized": normalizeName(name), "server": data["server"],
			"metadata": map[string]any{"labels": labels, "annotations": annotations}})
	}
	for _, p := range out {
		if len(values) > 0 {
			p["values"] = values
		}
	}
	return out
}

var notDNS = regexp.MustCompile(`[^a-z0-9.-]`)

// normalizeName is Argo CD's nameNormalized/basenameNormalized: lower case,
// anything but [a-z0-9.-] replaced by '-'.
func normalizeName(s string) string { return notDNS.ReplaceAllString(strings.ToLower(s), "-") }

// gitDirectories lists the repository's directories that the git
// generator's directories: patterns include and do not exclude.
func gitDirectories(t *Tree, git map[string]any) ([]string, error) {
	var include, exclude []string
	entries, _ := git["directories"].([]any)
	if len(entries) == 0 {
		return nil, fmt.Errorf("no directories: patterns")
	}
	for _, e := range entries {
		m, _ := e.(map[string]any)
		p, _ := m["path"].(string)
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("directories path %q: %v", p, err)
		}
		if ex, _ := m["exclude"].(bool); ex {
			exclude = append(exclude, p)
		} else {
			include = append(include, p)
		}
	}
	matches := func(patterns []string, dir string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(p, dir); ok {
				return true
			}
		}
		return false
	}
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		names, _ := t.ReadDir(dir)
		for _, n := range names {
			p := path.Join(dir, n)
			if !t.IsDir(p) || strings.HasPrefix(n, ".") {
				continue
			}
			if matches(include, p) && !matches(exclude, p) {
				out = append(out, p)
			}
			walk(p)
		}
	}
	walk(".")
	sort.Strings(out)
	return out, nil
}

// gitDirParams are a directory's parameters: path, path.basename,
// path.basenameNormalized and path[n] (fasttemplate), or path.path,
// path.basename, path.basenameNormalized, path.segments (Go templates).
func gitDirParams(dir string, goTemplate bool) map[string]any {
	segments := strings.Split(dir, "/")
	base := path.Base(dir)
	if goTemplate {
		segs := make([]any, len(segments))
		for i, s := range segments {
			segs[i] = s
		}
		return map[string]any{"path": map[string]any{"path": dir, "basename": base, "basenameNormalized": normalizeName(base), "segments": segs}}
	}
	p := map[string]any{"path": dir, "path.basename": base, "path.basenameNormalized": normalizeName(base)}
	for i, s := range segments {
		p[fmt.Sprintf("path[%d]", i)] = s
	}
	return p
}

// flatten turns nested parameters into fasttemplate's dotted keys
// (metadata.labels.env).
func flatten(p map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, e)
			}
			return
		}
		out[prefix] = v
	}
	walk("", p)
	return out
}

var fastTag = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// renderTemplate renders the Application template with one parameter set
// as Argo CD does: on the template marshalled to JSON, values JSON-escaped;
// fasttemplate leaves an unknown {{tag}} as it is.
func renderTemplate(tmpl map[string]any, params map[string]any, goTemplate bool) (map[string]any, error) {
	data, err := json.Marshal(tmpl)
	if err != nil {
		return nil, err
	}
	var rendered string
	if goTemplate {
		t, err := template.New("").Option("missingkey=zero").Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("template: %v", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, params); err != nil {
			return nil, fmt.Errorf("template: %v", err)
		}
		rendered = buf.String()
	} else {
		rendered = fastTag.ReplaceAllStringFunc(string(data), func(tag string) string {
			key := strings.TrimSpace(tag[2 : len(tag)-2])
			v, ok := params[key]
			if !ok {
				return tag
			}
			s, _ := json.Marshal(fmt.Sprint(v))
			return string(s[1 : len(s)-1])
		})
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(rendered), &app); err != nil {
		return nil, fmt.Errorf("rendered template is not valid: %v", err)
	}
	return app, nil
}
