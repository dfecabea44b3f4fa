//go:build ignore

// gen copies the CRDs listed in gitops.Sources from their pinned modules.
package main

import (
	"log"
	"os"
	"path/filepath"

	"meshops.dev/meshops/validate/gitops"
)

func main() {
	for _, s := range gitops.Sources {
		src, err := gitops.Upstream(".", s)
		if err != nil {
			log.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			log.Fatal(err)
		}
		if data, err = s.Transform(data); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("crds", s.File), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
