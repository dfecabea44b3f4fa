// Package explain answers, for one environment, what the mesh does with it:
// per workload whether it runs a sidecar and why, the HTTP filters istiod
// would give it in Envoy's order with each Wasm filter's pushed
// configuration, where a request to each Gateway host goes, and the response
// headers it gets once the repository's plugin, run natively with that
// configuration, has seen it.
package explain

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"meshops.dev/meshops/internal/pluginrun"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// Upstream is the response the app is taken to send: the plugin's effect is
// what it adds to it.
var upstream = [][2]string{{":status", "200"}}

// Report is one environment's explanation.
type Report struct {
	Istio       string           `json:"istio"`
	Environment string           `json:"environment"`
	Target      string           `json:"target"`
	Platform    string           `json:"platform"`
	Workloads   []*mesh.Workload `json:"workloads"`
	Gateways    []GatewayReport  `json:"gateways"`
	Hosts       []*Host          `json:"hosts"`
	// Error is set when istiod's code failed on the environment.
	Error string `json:"error,omitempty"`
}

// GatewayReport is one ingress gateway of the platform: where it runs, what
// installs it, and its HTTP filters.
type GatewayReport struct {
	Name string `json:"gateway"`
	// Labels are its pods' labels, which a Gateway's selector matches.
	Labels map[string]string `json:"labels,omitempty"`
	// InstalledBy is the file and line of what installs it: the Helm release
	// of a platform derived from the repository, platform.yaml's entry, or
	// "" for Istio's default profile.
	InstalledBy string       `json:"installedBy,omitempty"`
	Chains      []mesh.Chain `json:"chains"`
}

// Host is where a request to one host and path goes, and what comes back.
type Host struct {
	URL     string      `json:"url"`
	Gateway string      `json:"gateway"`
	Route   *mesh.Route `json:"route"`
	// Responses is one per workload behind the route.
	Responses []Response `json:"responses"`
}

// Response is what a response from one workload looks like at the client.
type Response struct {
	From string `json:"from"`
	// Plugins are the Wasm filters the response passes, in the order they
	// process it (the workload's sidecar first, then the gateway).
	Plugins []PluginRun `json:"plugins"`
	Headers [][2]string `json:"headers"`
	// Note says why a sidecar's HTTP filters do not see the response: the
	// pod port the route reaches is one istiod serves as TCP.
	Note string `json:"note,omitempty"`
}

// PluginRun is one Wasm filter acting on a response.
type PluginRun struct {
	At           string `json:"at"`
	Plugin       string `json:"plugin"`
	URL          string `json:"url"`
	FailStrategy string `json:"failStrategy"`
	// StartError is the plugin's critical log when it refuses its config.
	StartError string `json:"startError,omitempty"`
}

// Environment renders overlays/<env> of tree and explains it.
func Environment(tree *render.Tree, env string) (*Report, error) {
	targets, err := render.Discover(tree)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, tg := range targets {
		if tg.Kind != render.Overlay {
			continue
		}
		if tg.Name() == env {
			return Target(tree, tg)
		}
		names = append(names, tg.Name())
	}
	return nil, fmt.Errorf("no environment %q: the overlays are %s", env, strings.Join(names, ", "))
}

// Target explains one rendered target.
func Target(tree *render.Tree, tg render.Target) (*Report, error) {
	platform, err := mesh.LoadPlatform(tree)
	if err != nil {
		return nil, err
	}
	return TargetOn(tree, tg, platform)
}

// TargetOn explains one rendered target on the given platform: the one
// derived from the repository's Istio releases (mesh.DerivePlatform), so
// that each gateway shows where the repository installs it.
func TargetOn(tree *render.Tree, tg render.Target, platform *mesh.Platform) (*Report, error) {
	res, err := kustomize.Render(tree, tg)
	if err != nil {
		return nil, err
	}
	ix := index.New(res)
	rep := &Report{Istio: mesh.Describe(), Environment: tg.Name(), Target: tg.Dir, Platform: "Istio's default profile (no " + mesh.PlatformFile + ")"}
	if platform.File != "" {
		rep.Platform = platform.File
	}
	installed := map[string]mesh.IngressGateway{}
	for _, g := range platform.IngressGateways {
		installed[g.String()] = g
	}
	ans, err := (&mesh.Analyzer{Platform: platform}).Analyze(ix)
	if err != nil {
		rep.Error = err.Error()
		return rep, nil
	}
	rep.Workloads = ans.Workloads
	for _, g := range ans.Gateways {
		gr := GatewayReport{Name: g.Name, Chains: g.Chains}
		if decl, ok := installed[g.Name]; ok {
			gr.Labels = decl.Labels
			if decl.File != "" {
				gr.InstalledBy = fmt.Sprintf("%s:%d", decl.File, decl.Line)
			}
		}
		rep.Gateways = append(rep.Gateways, gr)
		for _, r := range g.Routes {
			h := &Host{URL: "http://" + r.Host + portSuffix(r.Port) + r.Path, Gateway: g.Name, Route: r}
			for _, ep := range r.Endpoints {
				h.Responses = append(h.Responses, respond(ans, g, r, ep, podPort(ix, r, ep)))
			}
			rep.Hosts = append(rep.Hosts, h)
		}
	}
	return rep, nil
}

func portSuffix(p int) string {
	if p == 80 {
		return ""
	}
	return fmt.Sprintf(":%d", p)
}

// respond follows a response from workload ep back to the client: Envoy
// runs a chain's filters on a response in reverse order, the workload's
// sidecar (inbound) first, then the gateway's listener.
//
// port is the pod port the request reaches (0 when unknown): when istiod
// serves it as TCP, the sidecar's HTTP filters never run on it.
func respond(ans *mesh.Answer, g *mesh.Gateway, r *mesh.Route, ep string, port int) Response {
	resp := Response{From: ep, Headers: upstream}
	var hops []struct {
		at    string
		chain *mesh.Chain
	}
	for _, w := range ans.Workloads {
		if w.Ref == ep && w.Sidecar && port != 0 && slices.Contains(w.TCPPorts, port) {
			resp.Note = fmt.Sprintf("the sidecar of %s serves port %d as TCP (the Service declares it so): its HTTP filters, Wasm plugins included, never run", ep, port)
			continue
		}
		if w.Ref == ep && w.Sidecar && len(w.Chains) > 0 {
			hops = append(hops, struct {
				at    string
				chain *mesh.Chain
			}{"sidecar of " + w.Ref, &w.Chains[0]})
		}
	}
	for i := range g.Chains {
		if g.Chains[i].Listener == r.Listener && g.Chains[i].HTTP {
			hops = append(hops, struct {
				at    string
				chain *mesh.Chain
			}{"gateway " + g.Name, &g.Chains[i]})
			break
		}
	}
	for _, hop := range hops {
		fs := hop.chain.Filters
		for i := len(fs) - 1; i >= 0; i-- {
			wf := fs[i].Wasm
			if wf == nil || wf.Type != "HTTP" {
				continue
			}
			run := pluginrun.Respond(wf.PluginConfig, resp.Headers)
			resp.Plugins = append(resp.Plugins, PluginRun{At: hop.at, Plugin: wf.Plugin, URL: wf.URL, FailStrategy: wf.FailStrategy, StartError: run.StartError})
			resp.Headers = run.Headers
			if run.StartError != "" && wf.FailStrategy == "FAIL_CLOSE" {
				// Envoy's Wasm filter answers 503 when a fail-closed plugin has no running VM.
				resp.Headers = [][2]string{{":status", "503"}}
				return resp
			}
		}
	}
	return resp
}

// headerSet renders a response's headers (without :status) for comparison.
func headerSet(h [][2]string) map[string]string {
	out := map[string]string{}
	for _, kv := range h {
		if !strings.HasPrefix(kv[0], ":") {
			out[kv[0]] = kv[1]
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// podPort returns the pod port a route's cluster reaches on workload ep:
// the Service port of the cluster (outbound|<port>|<subset>|<host>), its
// targetPort, a name resolved among the workload's container ports.
func podPort(ix *index.Index, r *mesh.Route, ep string) int {
	parts := strings.Split(r.Cluster, "|")
	if len(parts) != 4 {
		return 0
	}
	svcPort, _ := strconv.Atoi(parts[1])
	labels := strings.Split(parts[3], ".")
	if len(labels) < 2 {
		return 0
	}
	svc := ix.Get("Service", labels[1], labels[0])
	if svc == nil {
		return 0
	}
	var target any
	for _, p := range listOf(svc.Spec(), "ports") {
		m, _ := p.(map[string]any)
		if n, ok := number(m["port"]); ok && n == svcPort {
			target = m["targetPort"]
			if target == nil {
				target = m["port"]
			}
		}
	}
	if n, ok := number(target); ok {
		return n
	}
	name, _ := target.(string)
	if name == "" {
		return 0
	}
	for _, w := range ix.Workloads("") {
		if w.String() != ep {
			continue
		}
		for _, c := range append(w.Template.Spec.InitContainers, w.Template.Spec.Containers...) {
			for _, p := range c.Ports {
				if p.Name == name {
					return int(p.ContainerPort)
				}
			}
		}
	}
	return 0
}

func listOf(m map[string]any, key string) []any {
	v, _ := m[key].([]any)
	return v
}

// number reads an integer from a generic object.
func number(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}
