// Package report prints the validator's findings for people (text), for
// programs (json), for GitHub Actions annotations (github) and for GitHub
// code scanning (sarif).
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
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
	// Tool names the validator where the format has room for it (SARIF's
	// tool.driver); the zero Tool is ToolOf("").
	Tool     Tool
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

// Write prints findings in format, naming the tool as ToolOf("") does.
// targets lists the targets that rendered.
func Write(w io.Writer, format string, findings []check.Finding, targets []string, checks []*check.Check) error {
	return WriteRun(w, format, Run{Findings: findings, Targets: targets, Checks: checks})
}

// WriteFor prints findings in format; tool names the validator where the
// format has room for it (SARIF's tool.driver).
func WriteFor(w io.Writer, format string, tool Tool, findings []check.Finding, targets []string, checks []*check.Check) error {
	return WriteRun(w, format, Run{Tool: tool, Findings: findings, Targets: targets, Checks: checks})
}

// WriteRun prints a run in format: its findings, what it could not check
// and which checks validate.yaml turns off.
func WriteRun(w io.Writer, format string, r Run) error {
	if r.Tool == (Tool{}) {
		r.Tool = ToolOf("")
	}
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

// counts counts findings by severity; info findings (Istio's Info level)
// are neither errors nor warnings.
func counts(findings []check.Finding) (errors, warnings, infos int) {
	for _, f := range findings {
		switch f.Severity {
		case check.Error:
			errors++
		case check.Info:
			infos++
		default:
			warnings++
		}
	}
	return errors, warnings, infos
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
	e, w, i := counts(findings)
	s := plural(len(targets), "target") + " rendered"
	if len(targets) > 0 {
		s += " (" + strings.Join(targets, ", ") + ")"
	}
	s += ": " + plural(e, "error") + ", " + plural(w, "warning")
	if i > 0 {
		s += ", " + plural(i, "info")
	}
	return s + " (Istio " + mesh.Version + ")"
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

// JSON is the document -o json writes.
type JSON struct {
	Findings []check.Finding `json:"findings"`
	// NotChecked lists, per target, the kinds no schema covers.
	NotChecked []check.Unchecked `json:"notChecked"`
	// ChecksOff are the checks validate.yaml turns off, and where.
	ChecksOff []settings.Off `json:"checksOff"`
	Summary   JSONSummary    `json:"summary"`
	// Istio is the Istio release whose istiod code the validator runs.
	Istio string `json:"istio"`
}

// JSONSummary counts what rendered and what was found.
type JSONSummary struct {
	Targets  int      `json:"targets"`
	Rendered []string `json:"rendered"`
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
	// Infos counts Istio's Info-level messages, which fail nothing.
	Infos int `json:"infos"`
	// Silenced counts the findings validate.yaml turned off.
	Silenced int `json:"silenced"`
}

func writeJSON(w io.Writer, r Run) error {
	findings, targets := r.Findings, r.Targets
	e, warn, infos := counts(findings)
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
	return enc.Encode(JSON{Findings: findings, NotChecked: notChecked, ChecksOff: off,
		Summary: JSONSummary{Targets: len(targets), Rendered: targets, Errors: e, Warnings: warn, Infos: infos, Silenced: r.Silenced}, Istio: mesh.Version})
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
		switch f.Severity {
		case check.Warning:
			level = "warning"
		case check.Info:
			level = "notice" // GitHub's workflow command for information
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

// SARIF 2.1.0 (OASIS), the subset the validator writes. The types follow
// the schema's names; testdata/sarif-2.1.0.json (Microsoft's own copy of the
// schema, see testdata/README.md) checks the output in the tests.
type (
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifMessage       `json:"shortDescription"`
		FullDescription      sarifMessage       `json:"fullDescription"`
		Help                 sarifMessage       `json:"help"`
		HelpURI              string             `json:"helpUri,omitempty"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
		EndLine   int `json:"endLine,omitempty"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           *sarifRegion          `json:"region,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex *int            `json:"ruleIndex,omitempty"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifDriver struct {
		Name           string            `json:"name"`
		Version        string            `json:"version"`
		InformationURI string            `json:"informationUri"`
		Rules          []sarifRule       `json:"rules"`
		Properties     map[string]string `json:"properties"`
	}
	sarifRun struct {
		Tool struct {
			Driver sarifDriver `json:"driver"`
		} `json:"tool"`
		Results     []sarifResult     `json:"results"`
		Invocations []sarifInvocation `json:"invocations"`
	}
	// What the run could not check, and the checks validate.yaml turns off,
	// are notifications of the invocation (SARIF 2.1.0, 3.20.21
	// toolExecutionNotifications, 3.20.22 toolConfigurationNotifications).
	sarifInvocation struct {
		ExecutionSuccessful            bool                `json:"executionSuccessful"`
		ToolExecutionNotifications     []sarifNotification `json:"toolExecutionNotifications"`
		ToolConfigurationNotifications []sarifNotification `json:"toolConfigurationNotifications"`
	}
	sarifNotification struct {
		Level      string          `json:"level"`
		Message    sarifMessage    `json:"message"`
		Descriptor sarifDescriptor `json:"descriptor"`
		Locations  []sarifLocation `json:"locations,omitempty"`
	}
	sarifDescriptor struct {
		ID string `json:"id"`
	}
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
)

// sarifLevel maps a severity to SARIF's level ("error", "warning", and
// "note" for Istio's Info messages).
func sarifLevel(s check.Severity) string {
	switch s {
	case check.Error:
		return "error"
	case check.Warning:
		return "warning"
	}
	return "note"
}

// fileURI writes a repository-relative path as the relative URI reference
// SARIF's artifactLocation.uri is: each segment percent-encoded, "/" kept.
func fileURI(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// locationOf is where a finding points: its file, with a region when the
// finding has a line; a finding about a whole file (no line) gets the
// whole file as its region, as Microsoft's SARIF validator asks (SARIF2017),
// when the file can be read under root. A finding without a file points at
// its target's file or folder, so that code scanning can still place it.
func locationOf(f check.Finding, root string) []sarifLocation {
	file := f.File
	if file == "" {
		if t := f.AllTargets(); len(t) > 0 {
			file, _, _ = strings.Cut(t[0], "#")
		}
	}
	if file == "" {
		return []sarifLocation{}
	}
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = fileURI(file)
	switch {
	case f.Line > 0:
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
	case root != "":
		if n := lineCount(filepath.Join(root, filepath.FromSlash(file))); n > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: 1, EndLine: n}
		}
	}
	return []sarifLocation{loc}
}

// lineCount is the number of lines of a regular file, 0 if it cannot be
// read or is empty.
func lineCount(path string) int {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return 0
	}
	n := bytes.Count(data, []byte("\n"))
	if data[len(data)-1] != '\n' {
		n++
	}
	return n
}

func writeSARIF(w io.Writer, rn Run) error {
	findings, checks, tool := rn.Findings, rn.Checks, rn.Tool
	rules := make([]sarifRule, 0, len(checks))
	for _, c := range entries(checks) {
		r := sarifRule{ID: c.Code, Name: c.Name, ShortDescription: sarifMessage{c.Summary}, FullDescription: sarifMessage{c.Rationale},
			Help: sarifMessage{c.Summary + ". Why: " + c.Rationale}, DefaultConfiguration: sarifConfiguration{sarifLevel(c.Level)}}
		if strings.HasPrefix(tool.InformationURI, "https://") || strings.HasPrefix(tool.InformationURI, "http://") {
			r.HelpURI = tool.InformationURI
		}
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	index := make(map[string]int, len(rules))
	for i, r := range rules {
		index[r.ID] = i
	}
	results := make([]sarifResult, 0, len(findings))
	for _, f := range findings {
		text := "[" + targetsOf(f) + "] "
		if f.Resource != "" {
			text += f.Resource + ": "
		}
		r := sarifResult{RuleID: f.Code, Level: sarifLevel(f.Severity), Message: sarifMessage{text + f.Message}, Locations: locationOf(f, tool.Root)}
		if i, ok := index[f.Code]; ok {
			r.RuleIndex = &i
		}
		results = append(results, r)
	}
	execution := []sarifNotification{}
	for _, l := range notCheckedLines(rn) {
		execution = append(execution, sarifNotification{Level: "note", Message: sarifMessage{l}, Descriptor: sarifDescriptor{check.CustomSchema.Code}})
	}
	configuration := []sarifNotification{}
	for _, o := range rn.Off {
		loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: fileURI(settings.File)}}}
		if o.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: o.Line}
		}
		configuration = append(configuration, sarifNotification{Level: "note", Message: sarifMessage{"check " + o.Code + " is off " + o.Where()},
			Descriptor: sarifDescriptor{o.Code}, Locations: []sarifLocation{loc}})
	}
	run := sarifRun{Results: results, Invocations: []sarifInvocation{{ExecutionSuccessful: true,
		ToolExecutionNotifications: execution, ToolConfigurationNotifications: configuration}}}
	run.Tool.Driver = sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI, Rules: rules,
		Properties: map[string]string{"istio": mesh.Version}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// SARIFSchema is the $schema the SARIF output names: the OASIS standard's
// schema for version 2.1.0.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// entries lists what checks report, one entry per code: a check's own
// entry, or each code of its catalogue (Istio's messages, for
// check.IstioAnalyzers).
func entries(checks []*check.Check) []check.Message {
	var out []check.Message
	for _, c := range checks {
		if c.Catalogue != nil {
			out = append(out, c.Catalogue()...)
			continue
		}
		out = append(out, check.Message{Code: c.Code, Name: c.Name, Level: c.Severity, Summary: c.Summary, Rationale: c.Rationale})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
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
		for _, m := range entries(checks) {
			list = append(list, entry{m.Code, m.Name, string(m.Level), m.Summary, m.Rationale})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	default:
		return fmt.Errorf("unknown --list-checks format %q (want one of %s)", format, strings.Join(CheckFormats, ", "))
	}
	if format == "markdown" {
		// Istio's catalogue is one row: its codes are Istio's, listed one by
		// one in the text and JSON forms and in SARIF's rules.
		b.WriteString("| Code | Severity | What it catches | Why |\n|---|---|---|---|\n")
		for _, c := range checks {
			code, severity := c.Code, string(c.Severity)
			if c.Catalogue != nil {
				list := c.Catalogue()
				if len(list) == 0 {
					continue
				}
				code = list[0].Code + "…" + list[len(list)-1].Code
				severity = "Istio's level (error, warning, info)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code, severity, c.Summary, strings.ReplaceAll(c.Rationale, "|", "\\|"))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, m := range entries(checks) {
		fmt.Fprintf(&b, "%s  %s  %s\n    %s\n    Why: %s\n\n", m.Code, m.Level, m.Name, m.Summary, m.Rationale)
	}
	fmt.Fprintf(&b, "Silence a check on one resource with the annotation\n    %s: CODE[,CODE]\n", check.IgnoreAnnotation)
	_, err := io.WriteString(w, b.String())
	return err
}
