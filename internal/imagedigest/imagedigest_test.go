package imagedigest

import (
	"context"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/testrepo"
	"meshops.dev/meshops/internal/wasmimage"
)

// TestResolve asks a registry on a loopback port for the digest of a tag
// make push's code pushed: the pushed manifest's digest, with or without
// oci://. An unknown tag and a registry that does not answer are one-line
// errors naming the image.
func TestResolve(t *testing.T) {
	addr := testrepo.StartRegistry(t)
	module := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	pushed, err := wasmimage.Push(context.Background(), addr+"/team/plugin:v1", module)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{addr + "/team/plugin", "oci://" + addr + "/team/plugin"} {
		got, err := Resolve(context.Background(), repo, "v1")
		if err != nil || got != pushed.String() {
			t.Errorf("Resolve(%s, v1) = %s, %v; want %s", repo, got, err, pushed)
		}
	}
	closed := testrepo.ClosedPort(t)
	for _, tt := range []struct{ repo, tag, want string }{
		{addr + "/team/plugin", "v2", "cannot resolve the digest of " + addr + "/team/plugin:v2: "},
		{closed + "/team/plugin", "v1", "cannot resolve the digest of " + closed + "/team/plugin:v1: "},
		{addr + "/Team/plugin", "v1", "image " + addr + "/Team/plugin:v1: "},
	} {
		_, err := Resolve(context.Background(), tt.repo, tt.tag)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Resolve(%s, %s): %v; want one line starting %q", tt.repo, tt.tag, err, tt.want)
		}
	}
}
