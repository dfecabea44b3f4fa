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
	}
	for i := range out {
		sort.Strings(out[i].Targets)
		if len(out[i].Targets) > 0 {
			out[i].Target = out[i].Targets[0]
		}
	}
	return out
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
	out := in[:0]
	for _, f := range in {
		if f.Code == check.IstioWebhook.Code && schema[of(f)] {
			continue
		}
		if f.Code == check.GatewaySelector.Code && releaseUnselected[strings.Join(f.AllTargets(), ",")] {
			continue
		}
		out = append(out, f)
	}
	return out
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
