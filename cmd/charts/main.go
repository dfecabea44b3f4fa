// Command charts fills the chart cache with exactly the Helm chart versions
// the repository pins, and records their sha256 digests in charts.lock (make
// charts). It reads every Flux HelmRelease (with its HelmRepository's url)
// and every Argo CD Application's Helm source under clusters/, fetches each
// chart version with Helm's SDK (index.yaml and archive for https
// repositories, the OCI registry client for oci://), and verifies a cached
// archive against the lock instead of fetching it again. Istio's charts are
// not fetched: they ship inside the pinned istio.io/istio module.
//
//	go run ./cmd/charts [--repo DIR] [--cache DIR]
//
// Exit status: 0 every pinned chart is cached and verified, 1 a chart could
// not be fetched or its digest differs from the lock's, 2 bad usage or the
// repository could not be read.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"meshops.dev/meshops/validate/charts"
	"meshops.dev/meshops/validate/mesh"
	"meshops.dev/meshops/validate/render"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("charts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "the repository's root")
	cacheDir := fs.String("cache", "", "the chart cache (default $"+charts.CacheEnv+", else meshops/charts in the user's cache directory)")
	plainHTTP := fs.Bool("plain-http", false, "talk plain HTTP to OCI registries (a local test registry)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/charts [flags]\n\nFetches the Helm charts the repository pins into the chart cache and records their digests in %s.\n\nFlags:\n", charts.LockFile)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "charts: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	dir := *cacheDir
	if dir == "" {
		d, err := charts.DefaultDir()
		if err != nil {
			fmt.Fprintln(stderr, "charts:", err)
			return 2
		}
		dir = d
	}
	tree, err := render.LoadDir(*repo)
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 2
	}
	pins, err := charts.Pins(tree)
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 2
	}
	lockFile := filepath.Join(*repo, charts.LockFile)
	cache, err := charts.Open(dir, lockFile)
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 2
	}
	var wanted []charts.Locked
	for _, p := range pins {
		if istio, same := charts.IstioChart(p, mesh.Version); istio {
			if same {
				fmt.Fprintf(stdout, "skip     %s: ships inside the pinned istio.io/istio module (Istio %s)\n", p, mesh.Version)
			} else {
				fmt.Fprintf(stdout, "skip     %s: Istio %s, but the validator runs Istio %s; not fetched, the validator reports the difference\n", p, p.Version, mesh.Version)
			}
			continue
		}
		if p.Problem != "" {
			fmt.Fprintf(stderr, "warning: not fetched: %s:%d: %s %s; the validator reports it as not checked\n", p.File, p.Line, p.Release, p.Problem)
			continue
		}
		wanted = append(wanted, charts.Locked{Repo: p.Repo, Chart: p.Chart, Version: p.Version})
	}
	fetcher, err := charts.NewFetcher(*plainHTTP)
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 2
	}
	results, syncErr := cache.Sync(fetcher, wanted)
	for _, r := range results {
		fmt.Fprintf(stdout, "%-8s chart %s %s from %s (%s)\n", r.Status, r.Chart, r.Version, r.Repo, r.Digest)
	}
	if syncErr != nil {
		for _, line := range strings.Split(syncErr.Error(), "\n") {
			fmt.Fprintln(stderr, "charts:", line)
		}
		fmt.Fprintf(stderr, "charts: %s left unchanged\n", charts.LockFile)
		return 1
	}
	if err := cache.Lock.Write(lockFile); err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d chart versions cached in %s, digests in %s\n", len(results), dir, charts.LockFile)
	return 0
}
