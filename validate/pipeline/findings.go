package pipeline

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/render"
)

// merge folds the findings that several targets share (a mistake in a base
// breaks every overlay that includes it) into one finding listing them all:
// one mistake, one finding.
func merge(in []check.Finding) []check.Finding {
	type key struct {
		code, file, resource, message string
		severity                      check.Severity
		line                          int
	}
	var out []check.Finding
	at := map[key]int{}
	for _, f := range in {
		k := key{f.Code, f.File, f.Resource, f.Message, f.Severity, f.Line}
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			f.Targets = append([]string(nil), f.AllTargets()...)
			out = append(out, f)
			continue
		}
		for _, tg := range f.AllTargets() {
			if !contains(out[i].Targets, tg) {
				out[i].Targets = append(out[i].Targets, tg)
			}
		}
		out[i].Analyzer = joinAnalyzers(out[i].Analyzer, f.Analyzer)
	}
	for i := range out {
		sort.Strings(out[i].Targets)
		if len(out[i].Targets) > 0 {
			out[i].Target = out[i].Targets[0]
		}
	}
	return out
}

// joinAnalyzers lists the Istio analyzers that reported one finding
// ("a,b"): several say the same thing (a Gateway whose selector selects no
// pod, say).
func joinAnalyzers(a, b string) string {
	switch {
	case b == "" || contains(strings.Split(a, ","), b):
		return a
	case a == "":
		return b
	}
	return a + "," + b
}

// sameAs lists, per meshops check, the Istio messages that state the same
// mistake about the same object: Istio's code and the start of its text.
// The meshops finding is kept (it names the field's file and line, a patch
// too), and its message names Istio's code.
var sameAs = map[string][][2]string{
	"RT001": {{"IST0101", "Referenced gateway not found"}, {"IST0132", ""}},
	"RT002": {{"IST0132", ""}},
	"RT003": {{"IST0101", "Referenced host not found"}, {"IST0101", "Referenced mirror host not found"}},
	"RT004": {{"IST0101", "Referenced host:port not found"}},
	"RT005": {{"IST0109", ""}},
	"RT006": {{"IST0145", ""}},
	"WP010": {{"IST0135", `Annotation "sidecar.istio.io/inject"`}},
	"RT008": {{"IST0101", "Referenced host+subset in destinationrule not found"}, {"IST0101", "Referenced mirror+subset in destinationrule not found"}},
	"RT010": {{"IST0101", "Referenced selector not found"}},
	"IS003": {{"IST0107", ""}, {"IST0108", ""}},
	"WL004": {{"IST0118", ""}},
	// The Secret a Certificate issues in another namespace than the gateway
	// pods': Istio's gateway secret analyzer finds no credentialName there.
	"CRT001": {{"IST0101", "Referenced credentialName not found"}},
	// A Gateway server port the gateway's Service does not expose.
	"PLT002": {{"IST0162", ""}},
}

// oneFinding keeps one finding per mistake where a meshops check and one of
// Istio's analyzers report the same thing about the same object (sameAs):
// the meshops finding, for all the targets either reports, its message
// ending with "(istioctl analyze: IST0101)" so that a search for either
// code finds it.
func oneFinding(in []check.Finding) []check.Finding {
	byResource := map[string][]int{}
	for i, f := range in {
		if _, ok := sameAs[f.Code]; ok && f.Resource != "" {
			byResource[f.Resource] = append(byResource[f.Resource], i)
		}
	}
	// Istio reports two conflicting Gateways (IST0145) on the one it
	// names the conflict from; RT006 on the other: "Conflict with gateways
	// blog/blog-2" names it.
	candidates := func(f check.Finding) []int {
		out := byResource[f.Resource]
		if f.Code == "IST0145" {
			for _, m := range conflictWith.FindAllStringSubmatch(f.Message, -1) {
				out = append(out, byResource["Gateway "+m[1]]...)
			}
		}
		return out
	}
	drop, used := map[int]bool{}, map[int]bool{}
	for j, f := range in {
		if !check.IsIstioCode(f.Code) {
			continue
		}
		// The meshops finding at the same line, else one not yet matched,
		// else any: a Service's two unnamed ports are two WL004 and two
		// IST0118.
		best := -1
		for _, i := range candidates(f) {
			switch {
			case !states(in[i].Code, f):
			case in[i].File == f.File && in[i].Line == f.Line:
				best = i
			case best < 0 || used[best] && !used[i]:
				if best < 0 || !(in[best].File == f.File && in[best].Line == f.Line) {
					best = i
				}
			}
		}
		if best >= 0 {
			used[best] = true
			m := &in[best]
			drop[j] = true
			if !strings.Contains(m.Message, "istioctl analyze: "+f.Code) {
				m.Message += " (istioctl analyze: " + f.Code + ")"
			}
			for _, tg := range f.AllTargets() {
				if !contains(m.Targets, tg) {
					m.Targets = append(m.Targets, tg)
				}
			}
			sort.Strings(m.Targets)
			if len(m.Targets) > 0 {
				m.Target = m.Targets[0]
			}
			m.Analyzer = joinAnalyzers(m.Analyzer, f.Analyzer)
		}
	}
	out := in[:0]
	for i, f := range in {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

// conflictWith finds the Gateways an IST0145 message names.
var conflictWith = regexp.MustCompile(`(?:gateways |, )([a-z0-9.-]+/[a-z0-9.-]+) \(`)

// states reports whether Istio's finding f states what the meshops check code does.
func states(code string, f check.Finding) bool {
	for _, s := range sameAs[code] {
		if f.Code == s[0] && strings.HasPrefix(f.Message, s[1]) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// superseded drops the findings another one already states: istiod's
// webhook (IS002) refusing an object the API server's CRD schema (IS001)
// refuses first. The API server validates an object against its schema
// before it calls validating admission webhooks (k8s.io/apiserver
// registry/generic/registry/store.go: Create runs rest.BeforeCreate, then
// createValidation), so the webhook never sees it. One mistake, one finding.
func superseded(in []check.Finding) []check.Finding {
	type object struct{ resource, targets string }
	of := func(f check.Finding) object {
		return object{f.Resource, strings.Join(f.AllTargets(), ",")}
	}
	schema := map[object]bool{}
	// PLT001 names the gateway release whose pods no Gateway selects; the
	// Gateway that selects nothing beside it (RT010) is the same mistake
	// seen from the other end: one finding, at the release, where the fix
	// (releaseName, the chart's labels) belongs.
	releaseUnselected := map[string]bool{}
	for _, f := range in {
		if f.Code == check.IstioSchema.Code && f.Resource != "" {
			schema[of(f)] = true
		}
		if f.Code == check.GatewayReleaseUnselected.Code {
			releaseUnselected[strings.Join(f.AllTargets(), ",")] = true
		}
	}
	var refused []check.Finding // IS001 and IS002
	for _, f := range in {
		if (f.Code == check.IstioSchema.Code || f.Code == check.IstioWebhook.Code) && f.Resource != "" {
			refused = append(refused, f)
		}
	}
	out := in[:0]
	for _, f := range in {
		if f.Code == check.IstioWebhook.Code && schema[of(f)] {
			continue
		}
		if f.Code == check.GatewaySelector.Code && releaseUnselected[strings.Join(f.AllTargets(), ",")] {
			continue
		}
		if followsFromRefusal(f, refused) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// refusedNames finds the objects an Istio message names: "VirtualService
// blog/blog", "Gateway blog/blog-gw".
var refusedNames = regexp.MustCompile(`\b(VirtualService|Gateway) ([a-z0-9.-]+/[a-z0-9.-]+)`)

// followsFromRefusal reports whether Istio's finding f only restates, as a
// consequence, what the API server or istiod's webhook refuses (IS001,
// IS002) in the same targets: a Gateway port istiod refuses has "no Service
// port" (IST0162); a host istiod refuses is "not found in the Gateway"
// (IST0132, where RT002 is not reported either); a route the CRD schema
// refuses (route: [null]) references host "" (IST0101). The refusal is the
// one finding.
func followsFromRefusal(f check.Finding, refused []check.Finding) bool {
	var about func(r check.Finding) bool
	switch {
	case f.Code == "IST0162":
		about = func(r check.Finding) bool { return strings.Contains(r.Message, "port") }
	case f.Code == "IST0132":
		about = func(r check.Finding) bool {
			return strings.Contains(r.Message, "host") || strings.Contains(r.Message, "domain")
		}
	case f.Code == "IST0101" && strings.HasSuffix(f.Message, `not found: ""`):
		about = func(r check.Finding) bool { return r.Code == check.IstioSchema.Code }
	default:
		return false
	}
	names := []string{f.Resource}
	for _, m := range refusedNames.FindAllStringSubmatch(f.Message, -1) {
		names = append(names, m[1]+" "+strings.TrimRight(m[2], "."))
	}
	for _, r := range refused {
		if !contains(names, r.Resource) || !about(r) {
			continue
		}
		for _, tg := range f.AllTargets() {
			if contains(r.AllTargets(), tg) {
				return true
			}
		}
	}
	return false
}

// fileLine matches "path/to/file.yaml" or "path/to/file.yaml:12" at the
// start of a render error, the shape render's messages take.
var fileLine = regexp.MustCompile(`^([^\s:'"]+\.ya?ml|[^\s:'"]+/[Kk]ustomization)(?::(\d+))?: `)

// renderFinding turns a target that did not render into a finding naming
// the file (and line, when the error says) to fix: RN001 for a remote
// reference, RN002 for anything else.
func renderFinding(tree *render.Tree, tg render.Target, err error) check.Finding {
	c := check.RenderFailure
	f := check.Finding{Code: c.Code, Severity: c.Severity, Target: tg.Dir}
	var se *render.SourceError
	if errors.As(err, &se) {
		if se.Remote {
			c = check.RemoteReference
		}
		f.Code, f.Severity, f.File, f.Line, f.Message = c.Code, c.Severity, se.File, se.Line, se.Msg
		return f
	}
	msg := err.Error()
	var re *render.Error
	if errors.As(err, &re) {
		msg = re.Err.Error()
	}
	f.File = render.KustomizationFile(tree, tg.Dir)
	if f.File == "" {
		f.File = tg.Dir
	}
	if m := fileLine.FindStringSubmatch(msg); m != nil && tree.Exists(m[1]) {
		f.File = m[1]
		msg = strings.TrimPrefix(msg[len(m[0]):], " ")
		if m[2] != "" {
			f.Line, _ = strconv.Atoi(m[2])
		}
	}
	f.Message = "does not render: " + strings.Join(strings.Fields(msg), " ")
	return f
}
