package gatewayapi

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestEmbeddedCRDsMatchPinnedModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skip("the source of sigs.k8s.io/gateway-api (pinned in go.mod) is not in the module cache: run go mod download")
	}
	want, err := Bundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(CRDs, want) {
		t.Error("crds.gen.yaml differs from the sigs.k8s.io/gateway-api version in go.mod: run go generate ./validate/gatewayapi")
	}
}

func TestEmbeddedCRDsDecode(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DecodeAll(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Gateway", "GatewayClass", "HTTPRoute", "GRPCRoute", "ReferenceGrant"} {
		if !v.ServesGroupKind(Group, kind) {
			t.Errorf("the embedded CRDs serve no %s.%s", kind, Group)
		}
	}
}

// BenchmarkNew is what every run pays for the embedded CRDs before a
// Gateway API object is validated: splitting and scanning the bundle.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
