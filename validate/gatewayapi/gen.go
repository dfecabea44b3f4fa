//go:build ignore

// gen writes crds.gen.yaml from the sigs.k8s.io/gateway-api module pinned in go.mod.
package main

import (
	"log"
	"os"
	"os/exec"
	"strings"

	"meshops.dev/meshops/validate/gatewayapi"
)

func main() {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		log.Fatalf("go list -m sigs.k8s.io/gateway-api: %v", err)
	}
	data, err := gatewayapi.Bundle(strings.TrimSpace(string(out)))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("crds.gen.yaml", data, 0o644); err != nil {
		log.Fatal(err)
	}
}
