package mesh

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
	yaml "go.yaml.in/yaml/v3"
	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/validation/agent"
	"istio.io/istio/pkg/util/protomarshal"
	"k8s.io/apimachinery/pkg/util/validation"

	"meshops.dev/meshops/validate/render"
)

// PlatformFile is the repository file that describes what the clusters
// provide outside the repository. It is optional: without it the validator
// assumes Istio's default installation profile.
const PlatformFile = "platform.yaml"

// Platform is what every cluster provides outside this repository: the Istio
// installation the repository's resources land in.
type Platform struct {
	// File is where it was read from ("" for the defaults).
	File string
	// IstioVersion is the Istio release the clusters run ("1.31").
	IstioVersion string
	// Revisions are the istiod revisions installed, as an istio.io/rev label
	// names them; "default" is the unnamed revision.
	Revisions []string
	// IngressGateways are the ingress gateway deployments Istio's installation
	// runs, which a networking.istio.io Gateway selects by label.
	IngressGateways []IngressGateway
	// Mesh is the MeshConfig, Istio's defaults with the file's settings
	// applied (its rootNamespace is the one a WasmPlugin applies mesh-wide from).
	Mesh *meshconfig.MeshConfig
	// MeshYAML is the file's meshConfig section, as given (for a derived
	// platform, the mesh key of istiod's ConfigMap).
	MeshYAML string
	// Webhooks are the sidecar injector webhooks the repository installs
	// (DerivePlatform); nil when it installs no istiod, and injection then
	// follows the webhooks istiod's chart installs for Revisions.
	Webhooks []InjectionWebhook

	// lines are where platform.yaml sets what it sets explicitly.
	lines platformLines
	// VersionConflict is set when the file's istio.version is another
	// release than the one whose istiod code the validator runs: a finding
	// (HLM005), not a stop, and the run goes on with Version.
	VersionConflict *PlatformError
	// Warnings are what Istio's mesh config validation
	// (agent.ValidateMeshConfig) warns about the meshConfig: istiod logs
	// them and goes on; the validator reports them.
	Warnings []PlatformWarning
}

// platformLines are the lines of platform.yaml's explicit settings.
type platformLines struct {
	revisions int
	gateways  []int          // one per ingressGateways entry; nil when the file lists none
	mesh      map[string]int // meshConfig's top-level keys
}

// PlatformWarning is one warning about platform.yaml, at the line of the
// setting it names (else of meshConfig).
type PlatformWarning struct {
	Line int
	Msg  string
}

// IngressGateway is one ingress gateway deployment and its Service.
type IngressGateway struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
	Ports     []GatewayPort     `yaml:"ports"`
	// File and Line locate what installs the gateway: the Helm release
	// (HelmRelease, Application) for a derived platform, platform.yaml's
	// entry otherwise ("" and 0 for the default profile).
	File string `yaml:"-"`
	Line int    `yaml:"-"`
	// Annotations and HostNetwork are the pod template's, for a gateway a
	// release installs: with Labels, what the injector's webhooks and its
	// policy read (Platform.Inject).
	Annotations map[string]string `yaml:"-"`
	HostNetwork bool              `yaml:"-"`
}

// GatewayPort is one port of the gateway's Service.
type GatewayPort struct {
	Name       string `yaml:"name"`
	Port       int32  `yaml:"port"`
	TargetPort int32  `yaml:"targetPort"`
	// Protocol is the Service port's protocol; "" is TCP, as the API server defaults it.
	Protocol string `yaml:"protocol,omitempty"`
}

// String names the gateway: "istio-system/istio-ingressgateway".
func (g IngressGateway) String() string { return g.Namespace + "/" + g.Name }

// DefaultPlatform is Istio's default installation profile: istiod's default
// revision, root namespace istio-system, and the istio-ingressgateway
// deployment with the labels and Service ports its chart
// (manifests/charts/gateways/istio-ingress) gives it.
func DefaultPlatform() *Platform {
	return &Platform{
		IstioVersion: Version,
		Revisions:    []string{"default"},
		IngressGateways: []IngressGateway{{
			Name:      "istio-ingressgateway",
			Namespace: "istio-system",
			Labels:    map[string]string{"app": "istio-ingressgateway", "istio": "ingressgateway"},
			Ports: []GatewayPort{
				{Name: "status-port", Port: 15021, TargetPort: 15021},
				{Name: "http2", Port: 80, TargetPort: 8080},
				{Name: "https", Port: 443, TargetPort: 8443},
			},
		}},
		Mesh: mesh.DefaultMeshConfig(),
	}
}

// RootNamespace is Istio's root namespace.
func (p *Platform) RootNamespace() string { return p.Mesh.GetRootNamespace() }

// platformFile is platform.yaml as written.
type platformFile struct {
	Istio struct {
		Version   string   `yaml:"version"`
		Revisions []string `yaml:"revisions"`
	} `yaml:"istio"`
	IngressGateways []IngressGateway `yaml:"ingressGateways"`
	MeshConfig      yaml.Node        `yaml:"meshConfig"`
}

// PlatformError is a platform.yaml that cannot be used, with the line to fix.
type PlatformError struct {
	File string
	Line int
	Msg  string
}

func (e *PlatformError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// ParsePlatform reads a platform file. Every field is optional; a missing one
// keeps the default profile's value. Unknown fields, a version other than the
// one this validator speaks for, and malformed gateways are errors naming the line.
func ParsePlatform(file string, data []byte) (*Platform, error) {
	p := DefaultPlatform()
	p.File = file
	fail := func(line int, format string, args ...any) error {
		return &PlatformError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return p, nil // an empty file: the defaults
		}
		return nil, fail(0, "%v", err)
	}
	var raw platformFile
	if err := strictDecode(&root, &raw); err != nil {
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, fail(line, "%s", m[2])
		}
		return nil, fail(0, "%s", oneLine(err.Error()))
	}
	lineOf := func(path ...string) int { return nodeLine(&root, path...) }
	if v := raw.Istio.Version; v != "" {
		if !sameMinor(v, Version) {
			p.VersionConflict = &PlatformError{File: file, Line: lineOf("istio", "version"), Msg: fmt.Sprintf(
				"istio.version is %q, but this validator runs istiod's code of Istio %s: two Istio releases; "+
					"move the istio.io/istio pin in go.mod to a commit of release-%s (see README, \"Which Istio\") or set istio.version to %s. Checked as Istio %s",
				v, Version, minorOf(v), Version, Version)}
		} else {
			p.IstioVersion = v
		}
	}
	if len(raw.Istio.Revisions) > 0 {
		for _, r := range raw.Istio.Revisions {
			if errs := validation.IsDNS1123Label(r); len(errs) > 0 {
				return nil, fail(lineOf("istio", "revisions"), "istio.revisions: %q is not a revision name: %s", r, strings.Join(errs, "; "))
			}
		}
		p.Revisions = raw.Istio.Revisions
		p.lines.revisions = lineOf("istio", "revisions")
	}
	if raw.IngressGateways != nil {
		p.IngressGateways = raw.IngressGateways
		seen := map[string]bool{}
		for i, g := range p.IngressGateways {
			line := nodeLine(&root, "ingressGateways", fmt.Sprint(i))
			switch {
			case g.Name == "" || g.Namespace == "":
				return nil, fail(line, "ingressGateways[%d]: name and namespace are required", i)
			case len(g.Labels) == 0:
				return nil, fail(line, "ingressGateways[%d] (%s): labels are required: a Gateway's selector matches them", i, g)
			case len(g.Ports) == 0:
				return nil, fail(line, "ingressGateways[%d] (%s): ports are required (its Service's ports, e.g. {name: http2, port: 80, targetPort: 8080})", i, g)
			case seen[g.String()]:
				return nil, fail(line, "ingressGateways[%d]: %s is listed twice", i, g)
			}
			seen[g.String()] = true
			p.IngressGateways[i].File, p.IngressGateways[i].Line = file, line
			p.lines.gateways = append(p.lines.gateways, line)
			for j, pt := range g.Ports {
				if pt.Port < 1 || pt.Port > 65535 {
					return nil, fail(line, "ingressGateways[%d].ports[%d]: port %d is not a port number", i, j, pt.Port)
				}
				if pt.TargetPort == 0 {
					p.IngressGateways[i].Ports[j].TargetPort = pt.Port
				}
			}
		}
	}
	if raw.MeshConfig.Kind != 0 {
		out, err := yaml.Marshal(&raw.MeshConfig)
		if err != nil {
			return nil, fail(raw.MeshConfig.Line, "meshConfig: %v", err)
		}
		// Istio's own reader ignores unknown fields; a misspelt setting must
		// not silently fall back to the default, so decode strictly first.
		if err := protomarshal.ApplyYAMLStrict(string(out), &meshconfig.MeshConfig{}); err != nil {
			return nil, fail(raw.MeshConfig.Line, "meshConfig: %s", oneLine(err.Error()))
		}
		SilenceIstioLog() // ApplyMeshConfigDefaults logs its warnings to stdout
		m, err := mesh.ApplyMeshConfigDefaults(string(out))
		if err != nil {
			return nil, fail(raw.MeshConfig.Line, "meshConfig: %s", oneLine(err.Error()))
		}
		p.Mesh, p.MeshYAML = m, string(out)
		p.lines.mesh = map[string]int{}
		for i := 0; i+1 < len(raw.MeshConfig.Content); i += 2 {
			key := raw.MeshConfig.Content[i].Value
			p.lines.mesh[key] = lineOf("meshConfig", key)
		}
		// The warnings ApplyMeshConfigDefaults logs: its own call of
		// agent.ValidateMeshConfig, repeated to keep them.
		if warn, _ := agent.ValidateMeshConfig(m); warn != nil {
			for _, w := range splitWarnings(warn) {
				line := raw.MeshConfig.Line
				if k := quotedKey.FindStringSubmatch(w); k != nil {
					if l := keyLine(&raw.MeshConfig, k[1]); l > 0 {
						line = l
					}
				}
				p.Warnings = append(p.Warnings, PlatformWarning{Line: line, Msg: w})
			}
		}
	}
	return p, nil
}

// quotedKey is a setting a warning names in quotes ('ISTIO_META_DNS_AUTO_ALLOCATE').
var quotedKey = regexp.MustCompile(`'([A-Za-z0-9_.-]+)'`)

// splitWarnings lists the problems of a (multi)error, one line each.
func splitWarnings(err error) []string {
	var me *multierror.Error
	if errors.As(err, &me) {
		var out []string
		for _, e := range me.WrappedErrors() {
			out = append(out, oneLine(e.Error()))
		}
		return out
	}
	return []string{oneLine(err.Error())}
}

// keyLine returns the line of the first mapping key named key under n, or 0.
func keyLine(n *yaml.Node, key string) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if l := keyLine(c, key); l > 0 {
			return l
		}
	}
	return 0
}

// yamlLine is the first error of a yaml.v3 TypeError: "line 3: field x not found in type ...".
var yamlLine = regexp.MustCompile(`line (\d+): ([^\n]*)`)

func strictDecode(n *yaml.Node, into any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	return dec.Decode(into)
}

// nodeLine returns the line of the value at path (map keys, or list indexes
// as decimal strings), or of the closest ancestor found.
func nodeLine(n *yaml.Node, path ...string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, key := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			var idx int
			if _, err := fmt.Sscan(key, &idx); err == nil && idx < len(n.Content) {
				next = n.Content[idx]
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

func minorOf(v string) string {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func sameMinor(a, b string) bool { return minorOf(a) == minorOf(b) }

// GatewaysSelected returns the declared ingress gateways whose labels a
// Gateway selector matches (Istio: the selector is a subset of the pod labels).
func (p *Platform) GatewaysSelected(selector map[string]string) []IngressGateway {
	var out []IngressGateway
	for _, g := range p.IngressGateways {
		if subset(selector, g.Labels) {
			out = append(out, g)
		}
	}
	return out
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// LoadPlatform reads platform.yaml at the root of the repository, or returns
// the default profile when there is none.
func LoadPlatform(tree *render.Tree) (*Platform, error) {
	if !tree.Exists(PlatformFile) {
		return DefaultPlatform(), nil
	}
	data, err := tree.ReadFile(PlatformFile)
	if err != nil {
		return nil, &PlatformError{File: PlatformFile, Msg: err.Error()}
	}
	return ParsePlatform(PlatformFile, data)
}
