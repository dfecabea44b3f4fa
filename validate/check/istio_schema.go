package check

import (
	"regexp"
	"strings"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/istio"
)

// IstioSchema is the API server's half of Istio's admission rules.
var IstioSchema = catalogued("IS001")

func init() {
	IstioSchema.Target = func(ix *index.Index, env *Env) []Finding {
		return istioObjects(IstioSchema, ix, func(o *index.Object) error { return env.Istio.Schema(o.Content) })
	}
}

// istioObjects runs validate on every Istio object of the target.
func istioObjects(c *Check, ix *index.Index, validate func(*index.Object) error) []Finding {
	var out []Finding
	for _, o := range ix.Objects {
		if !istio.IsIstio(o.Group) || o.Content == nil {
			continue
		}
		if err := validate(o); err != nil {
			out = append(out, c.findingAt(ix, o, istioField(o.Kind, err.Error()), "rejected at admission: %v; fix the field it names", err))
		}
	}
	return out
}

// unknownField matches the strict decoder's `unknown field "name"`.
var unknownField = regexp.MustCompile(`unknown field "([A-Za-z0-9_]+)"`)

// webhookFields maps words of istiod's validation messages, which name no
// field path, to the spec field they are about, per kind.
var webhookFields = map[string][][2]string{
	"Gateway":         {{"port", "servers.port.number"}, {"host", "servers.hosts"}, {"domain name", "servers.hosts"}, {"short name", "servers.hosts"}, {"tls", "servers.tls"}, {"selector", "selector"}},
	"VirtualService":  {{"gateway", "gateways"}, {"host", "hosts"}, {"domain name", "hosts"}, {"short name", "hosts"}, {"route", "http"}, {"destination", "http"}, {"match", "http"}},
	"WasmPlugin":      {{"url", "url"}, {"phase", "phase"}, {"targetRef", "targetRefs"}, {"workloadSelector", "selector"}, {"sha256", "sha256"}, {"PluginPhase", "phase"}},
	"DestinationRule": {{"host", "host"}, {"subset", "subsets"}},
}

// istioField returns the map-key path of the field an Istio validation
// message is about: the path it names, the unknown field, or the field its
// words point at; nil when none.
func istioField(kind, msg string) []string {
	p := messageField(msg)
	if len(p) > 1 { // a path below spec
		return p
	}
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return []string{"spec", m[1]}
	}
	for _, kw := range webhookFields[kind] {
		if strings.Contains(msg, kw[0]) {
			return append([]string{"spec"}, strings.Split(kw[1], ".")...)
		}
	}
	return p
}
