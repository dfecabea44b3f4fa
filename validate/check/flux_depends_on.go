package check

import (
	"fmt"
	"strings"

	"meshops.dev/meshops/validate/render"
)

// FluxDependsOn checks the order Flux Kustomizations are applied in.
var FluxDependsOn = catalogued("GO006")

func fluxDependsOn(repo *Repo, _ *Env) []Finding {
	c := FluxDependsOn
	type key struct{ cluster, ns, name string }
	byKey := map[key]*render.EntryPoint{}
	for _, e := range repo.Entries {
		if e.Engine == render.Flux && e.Flux != nil {
			byKey[key{e.Cluster, e.Namespace, e.Name}] = e
		}
	}
	deps := func(e *render.EntryPoint) []key {
		var out []key
		for _, d := range e.Flux.Spec.DependsOn {
			ns := d.Namespace
			if ns == "" {
				ns = e.Namespace
			}
			out = append(out, key{e.Cluster, ns, d.Name})
		}
		return out
	}
	// finding is about e's dependsOn item i: its line, or e's when unknown.
	finding := func(e *render.EntryPoint, i int, format string, args ...any) Finding {
		line := e.Line
		if repo.Tree != nil {
			if data, err := repo.Tree.ReadFile(e.File); err == nil {
				line = seqLine(data, e.Line, []string{"spec", "dependsOn"}, i)
			}
		}
		return Finding{Code: c.Code, Severity: c.Severity, Target: e.ID(), File: e.File, Line: line,
			Resource: "Kustomization " + e.Namespace + "/" + e.Name, Message: fmt.Sprintf(format, args...)}
	}
	var out []Finding
	for _, e := range repo.Entries {
		if e.Engine != render.Flux || e.Flux == nil {
			continue
		}
		for i, d := range deps(e) {
			if byKey[d] == nil && !(d.ns == "flux-system" && d.name == "flux-system") {
				out = append(out, finding(e, i, "dependsOn names Kustomization %s/%s, which %s does not declare: Flux waits for it forever and applies nothing", d.ns, d.name, e.Cluster))
			}
		}
	}
	// Cycles: depth-first search; report each cycle once, on its first member in file order.
	state := map[key]int{} // 0 new, 1 on the stack, 2 done
	reported := map[string]bool{}
	var stack []key
	var visit func(k key)
	visit = func(k key) {
		state[k] = 1
		stack = append(stack, k)
		if e := byKey[k]; e != nil {
			for _, d := range deps(e) {
				if byKey[d] == nil {
					continue
				}
				switch state[d] {
				case 0:
					visit(d)
				case 1:
					var names []string
					start := 0
					for i, s := range stack {
						if s == d {
							start = i
						}
					}
					for _, s := range stack[start:] {
						names = append(names, s.name)
					}
					names = append(names, d.name)
					id := strings.Join(names, " -> ")
					if !reported[id] {
						reported[id] = true
						// At d's dependsOn item that names the next member.
						next, item := d, 0
						if start+1 < len(stack) {
							next = stack[start+1]
						}
						for j, dd := range deps(byKey[d]) {
							if dd == next {
								item = j
								break
							}
						}
						out = append(out, finding(byKey[d], item, "dependsOn cycle: %s: none of them is ever applied", id))
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[k] = 2
	}
	for _, e := range repo.Entries {
		if e.Engine == render.Flux && e.Flux != nil {
			if k := (key{e.Cluster, e.Namespace, e.Name}); state[k] == 0 {
				visit(k)
			}
		}
	}
	return out
}

func init() {
	FluxDependsOn.Repo = fluxDependsOn
}
