// Command pushwasm publishes a built plugin.wasm as an OCI image Istio can
// pull, without Docker, and prints the digest to pin in an overlay.
//
//	go run ./cmd/pushwasm [--wasm plugin.wasm] registry/repo:tag
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"meshops.dev/meshops/internal/wasmimage"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushwasm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := fs.String("wasm", "plugin.wasm", "the Wasm module to publish")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./cmd/pushwasm [--wasm plugin.wasm] registry/repo:tag")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	image := strings.TrimPrefix(fs.Arg(0), "oci://")
	wasm, err := os.ReadFile(*wasmPath)
	if err != nil {
		fmt.Fprintf(stderr, "pushwasm: %v (build it with make plugin)\n", err)
		return 1
	}
	if err := wasmimage.CheckModule(wasm); err != nil {
		fmt.Fprintf(stderr, "pushwasm: %s: %v\n", *wasmPath, err)
		return 1
	}
	digest, err := wasmimage.Push(context.Background(), image, wasm)
	if err != nil {
		fmt.Fprintf(stderr, "pushwasm: %v\n", err)
		return 1
	}
	repo, tag := image, ""
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	fmt.Fprintf(stdout, "pushed oci://%s\ndigest %s\npin it in the plugin's images: entry of an overlay:\n    newName: oci://%s\n", image, digest, repo)
	if tag != "" {
		fmt.Fprintf(stdout, "    newTag: %s\n", tag)
	}
	fmt.Fprintf(stdout, "    digest: %s\n", digest)
	return 0
}
