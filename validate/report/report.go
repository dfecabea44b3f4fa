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
)

// Formats lists the output formats, for --help.
var Formats = []string{"text", "json", "github", "sarif"}

// Write prints findings in format. targets lists the targets that rendered.
func Write(w io.Writer, format string, findings []check.Finding, targets []string, checks []*check.Check) error {
	switch format {
	case "text":
		return writeText(w, findings, targets)
	case "json":
		return writeJSON(w, findings, targets)
	case "github":
		return writeGitHub(w, findings, targets)
	case "sarif":
		return writeSARIF(w, findings, checks)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
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

func writeJSON(w io.Writer, findings []check.Finding, targets []string) error {
	e, warn, infos := counts(findings)
	if findings == nil {
		findings = []check.Finding{}
	}
	if targets == nil {
		targets = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"findings": findings,
		"summary":  map[string]any{"targets": len(targets), "rendered": targets, "errors": e, "warnings": warn, "infos": infos},
		"istio":    mesh.Version,
	})
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
	b.WriteString(summary(findings, targets) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSARIF(w io.Writer, findings []check.Finding, checks []*check.Check) error {
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
	for _, m := range entries(checks) {
		rules = append(rules, rule{ID: m.Code, Name: m.Name, ShortDescription: message{m.Summary}, FullDescription: message{m.Rationale},
			DefaultConfiguration: map[string]string{"level": sarifLevel(m.Level)}})
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
		results = append(results, result{RuleID: f.Code, Level: sarifLevel(f.Severity), Message: message{text + f.Message}, Locations: []location{loc}})
	}
	driver := map[string]any{"name": "meshops-validate", "rules": rules, "properties": map[string]string{"istio": mesh.Version}}
	if uri := informationURI(); uri != "" {
		driver["informationUri"] = uri
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": driver},
			"results": results,
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

// sarifLevel is SARIF's level for a severity: error, warning, or note for
// information.
func sarifLevel(s check.Severity) string {
	switch s {
	case check.Error:
		return "error"
	case check.Warning:
		return "warning"
	}
	return "note"
}

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
