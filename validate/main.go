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
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"meshops.dev/meshops/validate/charts"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render/helm"
	"meshops.dev/meshops/validate/report"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	// Istio's packages log to stdout; the report must be all stdout holds.
	mesh.SilenceIstioLog()
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("o", "text", "output format: "+strings.Join(report.Formats, ", ")+" (with --list-checks: "+strings.Join(report.CheckFormats, ", ")+")")
	rootNS := fs.String("root-namespace", "", "Istio's root namespace, where a WasmPlugin may select workloads in any namespace (default: platform.yaml's meshConfig.rootNamespace, else istio-system)")
	meshScope := fs.String("mesh", pipeline.MeshSynced, "which targets istiod's code is asked about: synced (the paths the entry points sync; every target if they sync none), all, or off")
	version := fs.Bool("version", false, "print the Istio release whose istiod code the validator runs, and exit")
	listChecks := fs.Bool("list-checks", false, "print every check with its code, severity and rationale, and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file` (go tool pprof; make pgo merges them into validate/default.pgo)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./validate [flags] [repo-root]\n\n"+
			"Renders every overlays/<env> and every Flux Kustomization and Argo CD Application (under clusters/, or wherever they live) offline and runs every check.\n"+
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
	if *version {
		fmt.Fprintln(stdout, "meshops validate, speaking for "+mesh.Describe())
		return 0
	}
	checks := check.AllWithIstio()
	if err := check.CatalogueError(); err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	if *listChecks {
		if err := report.WriteChecks(stdout, *format, checks); err != nil {
			fmt.Fprintln(stderr, "validate:", err)
			return 2
		}
		return 0
	}
	if *meshScope != pipeline.MeshSynced && *meshScope != pipeline.MeshAll && *meshScope != pipeline.MeshOff {
		fmt.Fprintf(stderr, "validate: --mesh %q: synced, all or off\n", *meshScope)
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "validate: at most one repo-root argument")
		return 2
	}
	root := "."
	if fs.NArg() == 1 {
		root = fs.Arg(0)
	}
	if err := report.WriteFor(io.Discard, *format, report.Tool{}, nil, nil, nil); err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	// The chart cache make charts fills (validate/charts), trusted only
	// with charts.lock's digests; without a cache directory every chart
	// that is neither Istio's nor the repository's is HLM001, not checked.
	var chartSource helm.ChartSource = helm.NoCharts{}
	if dir, err := charts.DefaultDir(); err == nil {
		cache, err := charts.Open(dir, filepath.Join(root, charts.LockFile))
		if err != nil {
			fmt.Fprintln(stderr, "validate:", oneLine(err.Error()))
			return 2
		}
		chartSource = cache
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "validate: -cpuprofile:", err)
			return 2
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(stderr, "validate: -cpuprofile:", err)
			}
		}()
	}
	res, err := pipeline.Run(root, pipeline.Options{RootNamespace: *rootNS, Checks: checks, Mesh: *meshScope, Charts: chartSource})
	if err != nil {
		fmt.Fprintln(stderr, "validate:", oneLine(err.Error()))
		return 2
	}
	var rendered []string
	for _, tg := range res.Rendered {
		rendered = append(rendered, tg.ID())
	}
	run := report.Run{Tool: report.ToolOf(root), Findings: res.Findings, Targets: rendered, Checks: checks, NotChecked: res.NotChecked, Off: res.Off, Silenced: res.Silenced}
	if err := report.WriteRun(stdout, *format, run); err != nil {
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

// startCPUProfile starts Go's CPU profiler writing to file; stop ends it and
// closes the file.
func startCPUProfile(file string) (stop func() error, err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(file)
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// tuneGC trades memory for time, unless GOGC or GOMEMLIMIT say otherwise:
// the validator is one short run whose heap is mostly live (every render,
// its index, istiod's and the analyzers' inputs), so Go's default of a
// collection each time the heap doubles spends a quarter of the CPU of a
// large repository marking the same objects (make bench, N = 100). A
// collection when the heap has grown by four times the live heap, under a
// soft limit of 2 GiB past which the runtime collects as often as it
// must (runtime/debug.SetMemoryLimit).
func tuneGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(2 << 30)
	}
}
