// Package report prints the validator's findings for people (text), for
// programs (json), for GitHub Actions annotations (github) and for GitHub
// code scanning (sarif).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/mesh"
)

// Formats lists the output formats, for --help.
var Formats = []string{"text", "json", "github", "sarif"}

// Write prints findings in format. targets is how many targets rendered.
func Write(w io.Writer, format string, findings []check.Finding, targets int, checks []*check.Check) error {
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

func summary(findings []check.Finding, targets int) string {
	e, w := counts(findings)
	return fmt.Sprintf("%d targets rendered: %d errors, %d warnings (Istio %s)", targets, e, w, mesh.Version)
}

// writeText groups findings by the file to edit.
func writeText(w io.Writer, findings []check.Finding, targets int) error {
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
		fmt.Fprintf(&b, "  %-7s %-6s %s%s: %s\n", f.Severity, f.Code, f.Target, res, f.Message)
	}
	if len(findings) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(summary(findings, targets) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, findings []check.Finding, targets int) error {
	e, warn := counts(findings)
	if findings == nil {
		findings = []check.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"findings": findings,
		"summary":  map[string]int{"targets": targets, "errors": e, "warnings": warn},
		"istio":    mesh.Version,
	})
}

// GitHub workflow commands: data escapes %, CR and LF; properties also : and ,.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func writeGitHub(w io.Writer, findings []check.Finding, targets int) error {
	var b strings.Builder
	for _, f := range findings {
		level := "error"
		if f.Severity == check.Warning {
			level = "warning"
		}
		msg := "[" + f.Target + "] "
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
		text := "[" + f.Target + "] "
		if f.Resource != "" {
			text += f.Resource + ": "
		}
		results = append(results, result{RuleID: f.Code, Level: string(f.Severity), Message: message{text + f.Message}, Locations: []location{loc}})
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{"name": "meshops-validate", "informationUri": "https://github.com/your-org/meshops", "rules": rules,
				"properties": map[string]string{"istio": mesh.Version}}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteChecks prints the check table of --list-checks: for a terminal, or
// as the Markdown table the README carries (format "markdown").
func WriteChecks(w io.Writer, format string, checks []*check.Check) error {
	var b strings.Builder
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
