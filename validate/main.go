// Command validate renders every overlay and cluster entry point of a meshops
// repository offline and reports what the cluster would reject or silently
// ignore.
//
//	go run ./validate [flags] [repo-root]
//
// Exit status: 0 clean (warnings allowed), 1 findings at error level,
// 2 the repository could not be read, a target could not be rendered, or a
// check crashed (the findings say which, in every output format).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/report"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("o", "text", "output format: "+strings.Join(report.Formats, ", ")+" (with --list-checks: "+strings.Join(report.CheckFormats, ", ")+")")
	rootNS := fs.String("root-namespace", "istio-system", "Istio's root namespace: a WasmPlugin there may select workloads in any namespace")
	listChecks := fs.Bool("list-checks", false, "print every check with its code, severity and rationale, and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./validate [flags] [repo-root]\n\n"+
			"Renders every overlays/<env> and clusters/... entry point offline with Kustomize and runs every check.\n"+
			"repo-root defaults to the current directory.\n\n"+
			"Exit status: 0 no error-level finding, 1 error-level findings, 2 a target could not be rendered, a check crashed, or the repository could not be read.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	checks := check.All()
	if *listChecks {
		if err := report.WriteChecks(stdout, *format, checks); err != nil {
			fmt.Fprintln(stderr, "validate:", err)
			return 2
		}
		return 0
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "validate: at most one repo-root argument")
		return 2
	}
	root := "."
	if fs.NArg() == 1 {
		root = fs.Arg(0)
	}
	if err := report.Write(io.Discard, *format, nil, nil, nil); err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	res, err := pipeline.Run(root, pipeline.Options{RootNamespace: *rootNS, Checks: checks})
	if err != nil {
		fmt.Fprintln(stderr, "validate:", oneLine(err.Error()))
		return 2
	}
	var rendered []string
	for _, tg := range res.Rendered {
		rendered = append(rendered, tg.Dir)
	}
	if err := report.Write(stdout, *format, res.Findings, rendered, checks); err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	if res.RenderFailed() {
		return 2
	}
	if res.Errors() {
		return 1
	}
	return 0
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
