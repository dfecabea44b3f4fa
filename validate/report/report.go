// Package report prints the validator's findings for people (text), for
// programs (json), for GitHub Actions annotations (github) and for GitHub
// code scanning (sarif).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/settings"
)

// Formats lists the output formats, for --help.
var Formats = []string{"text", "json", "github", "sarif"}

// Run is what one run of the validator reports.
type Run struct {
	Findings []check.Finding
	// Targets lists the targets that rendered.
	Targets []string
	Checks  []*check.Check
	// NotChecked lists, per target, the kinds no schema covers.
	NotChecked []check.Unchecked
	// Off are the checks validate.yaml turns off; Silenced counts the
	// findings they silenced.
	Off      []settings.Off
	Silenced int
}

// Write prints findings in format. targets lists the targets that rendered.
func Write(w io.Writer, format string, findings []check.Finding, targets []string, checks []*check.Check) error {
	return WriteRun(w, format, Run{Findings: findings, Targets: targets, Checks: checks})
}

// WriteRun prints a run in format: its findings, what it could not check
// and which checks validate.yaml turns off.
func WriteRun(w io.Writer, format string, r Run) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, r)
	case "github":
		return writeGitHub(w, r)
	case "sarif":
		return writeSARIF(w, r)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// notCheckedLines are the report's "not checked" part, one line per target.
func notCheckedLines(r Run) []string {
	var out []string
	for _, u := range r.NotChecked {
		out = append(out, fmt.Sprintf("not checked (no schema) [%s]: %s", u.Target, strings.Join(u.Kinds, ", ")))
	}
	return out
}

// offLines say which checks validate.yaml turns off, and where.
func offLines(r Run) []string {
	var out []string
	for _, o := range r.Off {
		out = append(out, fmt.Sprintf("check %s is off %s (%s:%d)", o.Code, o.Where(), settings.File, o.Line))
	}
	if len(r.Off) > 0 {
		out = append(out, fmt.Sprintf("%s silenced by %s", plural(r.Silenced, "finding"), settings.File))
	}
	return out
}

func counts(findings []check.Finding) (errors, warnings int) {
	for _, f := range findings {
		if f.Severity == check.Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// plural is "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// summary is the last line: what rendered, and how many findings.
func summary(findings []check.Finding, targets []string) string {
	e, w := counts(findings)
	s := plural(len(targets), "target") + " rendered"
	if len(targets) > 0 {
		s += " (" + strings.Join(targets, ", ") + ")"
	}
	return s + ": " + plural(e, "error") + ", " + plural(w, "warning") + " (Istio " + mesh.Version + ")"
}

// targetsOf names the targets a finding is reported for.
func targetsOf(f check.Finding) string { return strings.Join(f.AllTargets(), ", ") }

// writeText groups findings by the file to edit.
func writeText(w io.Writer, r Run) error {
	findings, targets := r.Findings, r.Targets
	var b strings.Builder
	file := ""
	for _, f := range findings {
		if f.File != file {
			if file != "" {
				b.WriteString("\n")
			}
			file = f.File
			b.WriteString(file + "\n")
		}
		res := ""
		if f.Resource != "" {
			res = " " + f.Resource
		}
		if f.Line > 0 {
			res += fmt.Sprintf(", line %d", f.Line)
		}
		fmt.Fprintf(&b, "  %-7s %-6s %s%s: %s\n", f.Severity, f.Code, targetsOf(f), res, f.Message)
	}
	if len(findings) > 0 {
		b.WriteString("\n")
	}
	for _, l := range append(notCheckedLines(r), offLines(r)...) {
		b.WriteString(l + "\n")
	}
	b.WriteString(summary(findings, targets) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, r Run) error {
	findings, targets := r.Findings, r.Targets
	e, warn := counts(findings)
	if findings == nil {
		findings = []check.Finding{}
	}
	if targets == nil {
		targets = []string{}
	}
	notChecked := r.NotChecked
	if notChecked == nil {
		notChecked = []check.Unchecked{}
	}
	off := r.Off
	if off == nil {
		off = []settings.Off{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"findings":   findings,
		"notChecked": notChecked,
		"checksOff":  off,
		"summary":    map[string]any{"targets": len(targets), "rendered": targets, "errors": e, "warnings": warn, "silenced": r.Silenced},
		"istio":      mesh.Version,
	})
}

// GitHub workflow commands: data escapes %, CR and LF; properties also : and ,.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func writeGitHub(w io.Writer, r Run) error {
	findings, targets := r.Findings, r.Targets
	var b strings.Builder
	for _, f := range findings {
		level := "error"
		if f.Severity == check.Warning {
			level = "warning"
		}
		msg := "[" + targetsOf(f) + "] "
		if f.Resource != "" {
			msg += f.Resource + ": "
		}
		line := ""
		if f.Line > 0 {
			line = fmt.Sprintf(",line=%d", f.Line)
		}
		fmt.Fprintf(&b, "::%s file=%s%s,title=%s::%s\n", level, ghProperty.Replace(f.File), line, ghProperty.Replace(f.Code), ghData.Replace(msg+f.Message))
	}
	for _, l := range notCheckedLines(r) {
		fmt.Fprintf(&b, "::notice title=not checked::%s\n", ghData.Replace(l))
	}
	for _, o := range r.Off {
		fmt.Fprintf(&b, "::notice file=%s,line=%d,title=%s off::%s\n", settings.File, o.Line, ghProperty.Replace(o.Code), ghData.Replace("check "+o.Code+" is off "+o.Where()))
	}
	b.WriteString(summary(findings, targets) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSARIF(w io.Writer, r Run) error {
	findings, checks := r.Findings, r.Checks
	type message struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name"`
		ShortDescription     message           `json:"shortDescription"`
		FullDescription      message           `json:"fullDescription"`
		DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine int `json:"startLine"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *region `json:"region,omitempty"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   message    `json:"message"`
		Locations []location `json:"locations"`
	}
	rules := make([]rule, 0, len(checks))
	for _, c := range checks {
		level := "error"
		if c.Severity == check.Warning {
			level = "warning"
		}
		rules = append(rules, rule{ID: c.Code, Name: c.Name, ShortDescription: message{c.Summary}, FullDescription: message{c.Rationale}, DefaultConfiguration: map[string]string{"level": level}})
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	results := make([]result, 0, len(findings))
	for _, f := range findings {
		var loc location
		loc.PhysicalLocation.ArtifactLocation.URI = f.File
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &region{StartLine: f.Line}
		}
		text := "[" + targetsOf(f) + "] "
		if f.Resource != "" {
			text += f.Resource + ": "
		}
		results = append(results, result{RuleID: f.Code, Level: string(f.Severity), Message: message{text + f.Message}, Locations: []location{loc}})
	}
	driver := map[string]any{"name": "meshops-validate", "rules": rules, "properties": map[string]string{"istio": mesh.Version}}
	if uri := informationURI(); uri != "" {
		driver["informationUri"] = uri
	}
	// What the run could not check, and the checks validate.yaml turns
	// off, are SARIF notifications of the invocation (SARIF 2.1.0, 3.20.21
	// toolExecutionNotifications, 3.20.22 toolConfigurationNotifications).
	type notification struct {
		Level      string            `json:"level"`
		Message    message           `json:"message"`
		Descriptor map[string]string `json:"descriptor,omitempty"`
		Locations  []location        `json:"locations,omitempty"`
	}
	execution := []notification{}
	for _, l := range notCheckedLines(r) {
		execution = append(execution, notification{Level: "note", Message: message{l}, Descriptor: map[string]string{"id": check.CustomSchema.Code}})
	}
	configuration := []notification{}
	for _, o := range r.Off {
		var loc location
		loc.PhysicalLocation.ArtifactLocation.URI = settings.File
		loc.PhysicalLocation.Region = &region{StartLine: o.Line}
		configuration = append(configuration, notification{Level: "note", Message: message{"check " + o.Code + " is off " + o.Where()}, Descriptor: map[string]string{"id": o.Code}, Locations: []location{loc}})
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": driver},
			"results": results,
			"invocations": []any{map[string]any{
				"executionSuccessful":            true,
				"toolExecutionNotifications":     execution,
				"toolConfigurationNotifications": configuration,
			}},
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// informationURI is where the validator's documentation lives: the README of
// the repository a GitHub Actions run checks (GITHUB_SERVER_URL and
// GITHUB_REPOSITORY, which every workflow run sets), or "" elsewhere, since
// SARIF makes the property optional and a guess would be a placeholder.
func informationURI() string {
	server, repo := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY")
	if server == "" || repo == "" {
		return ""
	}
	return strings.TrimSuffix(server, "/") + "/" + repo + "#readme"
}

// CheckFormats lists the formats of --list-checks.
var CheckFormats = []string{"text", "markdown", "json"}

// WriteChecks prints the check table of --list-checks: for a terminal, as
// the Markdown table the README carries (format "markdown"), or as JSON.
func WriteChecks(w io.Writer, format string, checks []*check.Check) error {
	var b strings.Builder
	switch format {
	case "text", "markdown":
	case "json":
		type entry struct {
			Code      string `json:"code"`
			Name      string `json:"name"`
			Severity  string `json:"severity"`
			Summary   string `json:"summary"`
			Rationale string `json:"rationale"`
		}
		list := make([]entry, 0, len(checks))
		for _, c := range checks {
			list = append(list, entry{c.Code, c.Name, string(c.Severity), c.Summary, c.Rationale})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	default:
		return fmt.Errorf("unknown --list-checks format %q (want one of %s)", format, strings.Join(CheckFormats, ", "))
	}
	if format == "markdown" {
		b.WriteString("| Code | Severity | What it catches | Why |\n|---|---|---|---|\n")
		for _, c := range checks {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Code, c.Severity, c.Summary, strings.ReplaceAll(c.Rationale, "|", "\\|"))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, c := range checks {
		fmt.Fprintf(&b, "%s  %s  %s\n    %s\n    Why: %s\n\n", c.Code, c.Severity, c.Name, c.Summary, c.Rationale)
	}
	fmt.Fprintf(&b, "Silence a check on one resource with the annotation\n    %s: CODE[,CODE]\n", check.IgnoreAnnotation)
	_, err := io.WriteString(w, b.String())
	return err
}
