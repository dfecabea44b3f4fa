package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"meshops.dev/meshops/validate/mesh"
)

// WriteJSON prints the report as JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText prints the report for a terminal.
func WriteText(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "environment %s (%s), as istiod of %s answers it; platform: %s\n", rep.Environment, rep.Target, rep.Istio, rep.Platform)
	if rep.Error != "" {
		fmt.Fprintf(&b, "\nistiod's code failed on this environment (IS004): %s\n", rep.Error)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\nworkloads\n")
	for _, wl := range rep.Workloads {
		if wl.Sidecar {
			fmt.Fprintf(&b, "  %s (%s): Envoy sidecar, because %s\n", wl.Ref, wl.Source, wl.Why)
		} else {
			fmt.Fprintf(&b, "  %s (%s): no sidecar, because %s; no Wasm plugin runs in its pods\n", wl.Ref, wl.Source, wl.Why)
			continue
		}
		for _, c := range wl.Chains {
			fmt.Fprintf(&b, "    inbound HTTP filters (listener %s, filter chain %s), in the order Envoy runs them on a request:\n", c.Listener, c.Name)
			writeFilters(&b, c.Filters, "      ")
		}
		if !hasWasm(wl.Chains) {
			b.WriteString("    no Wasm plugin runs here\n")
		}
	}
	for _, g := range rep.Gateways {
		fmt.Fprintf(&b, "\ningress gateway %s", g.Name)
		if g.InstalledBy != "" {
			fmt.Fprintf(&b, ", installed by %s", g.InstalledBy)
		}
		b.WriteString("\n")
		for _, c := range g.Chains {
			if !c.HTTP {
				continue
			}
			fmt.Fprintf(&b, "  HTTP filters (listener %s), in the order Envoy runs them on a request:\n", c.Listener)
			writeFilters(&b, c.Filters, "    ")
		}
	}
	b.WriteString("\nhosts\n")
	if len(rep.Hosts) == 0 {
		b.WriteString("  no Gateway host selects a declared ingress gateway\n")
	}
	for _, h := range rep.Hosts {
		r := h.Route
		fmt.Fprintf(&b, "  %s at %s\n", h.URL, h.Gateway)
		if r.Error != "" {
			fmt.Fprintf(&b, "    matches no route: %s (listener %s, virtual host %s); Envoy answers 404\n", r.Error, orDash(r.Listener), orDash(r.VirtualHost))
			continue
		}
		fmt.Fprintf(&b, "    listener %s, virtual host %s, route %s, cluster %s\n", r.Listener, r.VirtualHost, orDash(r.Route), r.Cluster)
		switch {
		case r.ClusterMissing:
			fmt.Fprintf(&b, "    istiod pushes no cluster %s: Envoy answers 503\n", r.Cluster)
			continue
		case len(r.Endpoints) == 0:
			b.WriteString("    the cluster has no ready endpoint: Envoy answers 503\n")
			continue
		}
		for _, resp := range h.Responses {
			fmt.Fprintf(&b, "    response from %s:\n", resp.From)
			if resp.Note != "" {
				fmt.Fprintf(&b, "      %s\n", resp.Note)
			}
			if len(resp.Plugins) == 0 {
				b.WriteString("      no Wasm plugin runs on it\n")
			}
			for _, p := range resp.Plugins {
				fmt.Fprintf(&b, "      WasmPlugin %s at the %s (%s, %s)", p.Plugin, p.At, p.URL, p.FailStrategy)
				if p.StartError != "" {
					fmt.Fprintf(&b, ": fails to start: %s", p.StartError)
				}
				b.WriteString("\n")
			}
			b.WriteString("      headers at the client (the plugin run natively with the pushed pluginConfig):\n")
			for _, kv := range resp.Headers {
				fmt.Fprintf(&b, "        %s: %s\n", kv[0], kv[1])
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hasWasm(chains []mesh.Chain) bool {
	for _, c := range chains {
		for _, f := range c.Filters {
			if f.Wasm != nil {
				return true
			}
		}
	}
	return false
}

func writeFilters(b *strings.Builder, fs []mesh.Filter, indent string) {
	for i, f := range fs {
		if f.Wasm == nil {
			fmt.Fprintf(b, "%s%d. %s\n", indent, i+1, f.Name)
			continue
		}
		wf := f.Wasm
		prio := "unset"
		if wf.Priority != nil {
			prio = fmt.Sprint(*wf.Priority)
		}
		fmt.Fprintf(b, "%s%d. %s: WasmPlugin %s, type %s, phase %s, priority %s\n", indent, i+1, f.Name, wf.Plugin, orDash(wf.Type), orDash(wf.Phase), prio)
		fmt.Fprintf(b, "%s   url %s, failStrategy %s\n", indent, wf.URL, wf.FailStrategy)
		fmt.Fprintf(b, "%s   pluginConfig %s\n", indent, orDash(wf.PluginConfig))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
