//go:build ignore

// gen copies Istio's Helm charts (the ones a repository installs Istio
// with) and the release they stand for (VERSION) from the pinned
// istio.io/istio module into istiocharts/, which istio.go embeds.
package main

import (
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"meshops.dev/meshops/validate/render/helm"
)

func main() {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	if err != nil {
		log.Fatalf("locate istio.io/istio: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if err := os.RemoveAll(helm.IstioChartsDir); err != nil {
		log.Fatal(err)
	}
	for name, dir := range helm.IstioChartDirs {
		src := filepath.Join(mod, "manifests", "charts", filepath.FromSlash(dir))
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			dst := filepath.Join(helm.IstioChartsDir, name, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(mod, "VERSION"))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(helm.IstioChartsDir, "VERSION"), data, 0o644); err != nil {
		log.Fatal(err)
	}
}
