// Command explain prints what the mesh does with one environment, as
// istiod's own code answers it: per workload whether it runs a sidecar and
// why, the HTTP filters in Envoy's order with each Wasm filter's pushed
// configuration, where a request to each Gateway host goes, and the response
// headers it gets from the repository's plugin, run natively.
//
//	go run ./cmd/explain [-o text|json] [--repo DIR] ENV
//
// Exit status: 0 explained, 1 istiod's code failed on the environment,
// 2 bad usage or the repository could not be read or rendered.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"meshops.dev/meshops/validate/explain"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("o", "text", "output format: text or json")
	repo := fs.String("repo", ".", "the repository's root")
	version := fs.Bool("version", false, "print the Istio release whose istiod code answers, and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/explain [flags] ENV\n\nExplains overlays/ENV as istiod of %s answers it.\n\nFlags:\n", mesh.Describe())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "meshops explain, speaking for "+mesh.Describe())
		return 0
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fmt.Fprintln(stderr, "explain: name one environment (an overlays/<env> directory), e.g. make explain ENV=dev")
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "explain: unknown output format %q: text or json\n", *format)
		return 2
	}
	tree, err := render.LoadDir(*repo)
	if err != nil {
		fmt.Fprintln(stderr, "explain:", oneLine(err.Error()))
		return 2
	}
	rep, err := explain.Environment(tree, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "explain:", oneLine(err.Error()))
		return 2
	}
	if *format == "json" {
		err = explain.WriteJSON(stdout, rep)
	} else {
		err = explain.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "explain:", err)
		return 2
	}
	if rep.Error != "" {
		return 1
	}
	return 0
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
