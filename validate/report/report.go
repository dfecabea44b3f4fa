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
)

// Formats lists the output formats, for --help.
var Formats = []string{"text", "json", "github", "sarif"}

// Write prints findings in format, naming the tool as ToolOf("") does.
// targets lists the targets that rendered.
func Write(w io.Writer, format string, findings []check.Finding, targets []string, checks []*check.Check) error {
	return WriteFor(w, format, ToolOf(""), findings, targets, checks)
}

// WriteFor prints findings in format; tool names the validator where the
// format has room for it (SARIF's tool.driver).
func WriteFor(w io.Writer, format string, tool Tool, findings []check.Finding, targets []string, checks []*check.Check) error {
	switch format {
	case "text":
		return writeText(w, findings, targets)
	case "json":
		return writeJSON(w, findings, targets)
	case "github":
		return writeGitHub(w, findings, targets)
	case "sarif":
		return writeSARIF(w, findings, checks, tool)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
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
func writeText(w io.Writer, findings []check.Finding, targets []string) error {
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
	b.WriteString(summary(findings, targets) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON is the document -o json writes.
type JSON struct {
	Findings []check.Finding `json:"findings"`
	Summary  JSONSummary     `json:"summary"`
	// Istio is the Istio release whose istiod code the validator runs.
	Istio string `json:"istio"`
}

// JSONSummary counts what rendered and what was found.
type JSONSummary struct {
	Targets  int      `json:"targets"`
	Rendered []string `json:"rendered"`
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
}

func writeJSON(w io.Writer, findings []check.Finding, targets []string) error {
	e, warn := counts(findings)
	if findings == nil {
		findings = []check.Finding{}
	}
	if targets == nil {
		targets = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSON{Findings: findings, Summary: JSONSummary{Targets: len(targets), Rendered: targets, Errors: e, Warnings: warn}, Istio: mesh.Version})
}

// GitHub workflow commands: data escapes %, CR and LF; properties also : and ,.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func writeGitHub(w io.Writer, findings []check.Finding, targets []string) error {
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
		Results []sarifResult `json:"results"`
	}
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
)

// sarifLevel maps a severity to SARIF's level ("error", "warning").
func sarifLevel(s check.Severity) string {
	if s == check.Warning {
		return "warning"
	}
	return "error"
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

func writeSARIF(w io.Writer, findings []check.Finding, checks []*check.Check, tool Tool) error {
	rules := make([]sarifRule, 0, len(checks))
	for _, c := range checks {
		r := sarifRule{ID: c.Code, Name: c.Name, ShortDescription: sarifMessage{c.Summary}, FullDescription: sarifMessage{c.Rationale},
			Help: sarifMessage{c.Summary + ". Why: " + c.Rationale}, DefaultConfiguration: sarifConfiguration{sarifLevel(c.Severity)}}
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
	run := sarifRun{Results: results}
	run.Tool.Driver = sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI, Rules: rules,
		Properties: map[string]string{"istio": mesh.Version}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// SARIFSchema is the $schema the SARIF output names: the OASIS standard's
// schema for version 2.1.0.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

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
