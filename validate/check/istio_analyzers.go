package check

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/msg"
	"istio.io/istio/pkg/url"

	"meshops.dev/meshops/validate/analyze"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// IstioAnalyzers runs Istio's own analyzers (istioctl analyze's, from the
// pinned istio.io/istio) on each target. Its findings carry Istio's codes
// (IST0101, ...), levels and texts. Those codes are Istio's catalogue
// (pkg/config/analysis/msg/messages.yaml of the module), not entries of
// messages.yaml: the check is not in All(), which lists meshops' own
// checks, and Catalogue lists Istio's messages from the module for
// --list-checks and SARIF.
var IstioAnalyzers = istioAnalyzers()

// IstioPrefix starts every code of Istio's catalogue.
const IstioPrefix = "IST"

func istioAnalyzers() *Check {
	c := &Check{
		Code:     IstioPrefix,
		Name:     "istio-analyzers",
		Severity: Error,
		Summary:  "Istio's own analyzers (istioctl analyze) report nothing on any target: every message of theirs is a finding with Istio's code, level and text",
		Rationale: "istioctl analyze is Istio's own judgement of a configuration: references that resolve to nothing, selectors that select nothing, " +
			"conflicting gateways, deprecated fields. The validator runs the pinned module's analyzers on every rendered target with the pods each workload " +
			"runs (injected as Istio's installation injects them) and the platform's gateways, injector and mesh config.",
	}
	c.Catalogue = IstioMessages
	return c
}

func init() { IstioAnalyzers.Target = istioAnalysis }

// AllWithIstio is All() and IstioAnalyzers: everything a run checks.
func AllWithIstio() []*Check { return append(All(), IstioAnalyzers) }

// IsIstioCode reports whether code is one of Istio's analysis messages.
func IsIstioCode(code string) bool {
	_, ok := istioCatalogue()[code]
	return ok
}

var istioCatalogue = sync.OnceValue(func() map[string]Message {
	out := map[string]Message{}
	for _, t := range analyze.MessageTypes() {
		out[t.Code()] = istioMessage(t)
	}
	return out
})

// verb matches a fmt verb of Istio's message templates.
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// istioMessage describes one of Istio's message types as an entry of the
// check list: its code and level, its template with "…" for each parameter.
func istioMessage(t *diag.MessageType) Message {
	text := verb.ReplaceAllString(t.Template(), "…")
	return Message{
		Code: t.Code(), Name: "istio-" + strings.ToLower(t.Code()), Level: severityOf(t.Level().String()),
		Description: text, Summary: text,
		Rationale: "Istio's analyzer message " + t.Code() + " (istioctl analyze), reported with Istio's level and text: " +
			url.ConfigAnalysis + "/" + strings.ToLower(t.Code()) + "/",
	}
}

// IstioMessages lists Istio's analysis messages, ordered by code.
func IstioMessages() []Message {
	var out []Message
	for _, t := range analyze.MessageTypes() {
		out = append(out, istioMessage(t))
	}
	return out
}

// severityOf maps Istio's levels (diag.Error, Warning, Info) to severities.
func severityOf(level string) Severity {
	switch level {
	case "Error":
		return Error
	case "Warning":
		return Warning
	}
	return Info
}

func istioAnalysis(ix *index.Index, env *Env) []Finding {
	a := env.AnalyzerFor(ix)
	if a == nil {
		return nil
	}
	msgs, err := a.Analyze(ix)
	if err != nil {
		panic(err) // becomes VAL001, naming the check
	}
	var out []Finding
	for _, m := range msgs {
		f := IstioAnalyzers.findingAt(ix, m.Object, m.Path, "%s", m.Text)
		if m.Path == nil {
			f = IstioAnalyzers.finding(ix, m.Object, "%s", m.Text)
		}
		f.Code, f.Severity, f.Analyzer = m.Code, severityOf(m.Level), m.Analyzer
		out = append(out, f)
	}
	return out
}

// PlatformWarnings turns what Istio's mesh config validation warns about
// platform.yaml's meshConfig into findings with istioctl analyze's codes:
// IST0002 (Deprecated) for a deprecated setting, IST0133 for any other.
func PlatformWarnings(p *mesh.Platform) []Finding {
	var out []Finding
	for _, w := range p.Warnings {
		t := msg.SchemaWarning
		if strings.Contains(w.Msg, "deprecated") {
			t = msg.Deprecated
		}
		out = append(out, Finding{Code: t.Code(), Severity: severityOf(t.Level().String()), File: p.File, Line: w.Line,
			Message: "meshConfig: " + fmt.Sprintf(t.Template(), w.Msg)})
	}
	return out
}
