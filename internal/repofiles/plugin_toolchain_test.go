package repofiles

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tinyGoGo is the Go release inside the TinyGo 0.37 image the Dockerfile
// builds the plugin with: TinyGo compiles the plugin with this Go's standard
// library and refuses a go.mod whose go line is newer.
const tinyGoGo = "go1.24.0"

// TestPluginBuildsWithTinyGosGo vets the plugin module with Go 1.24.0, so a go
// line, a requirement or a standard library call newer than the Go inside
// TinyGo 0.37 fails here rather than in the image build. GOTOOLCHAIN makes the
// go command download that release from the module proxy.
func TestPluginBuildsWithTinyGosGo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: vetting the plugin with " + tinyGoGo + " compiles its standard library (minutes on a cold cache)")
	}
	data, err := os.ReadFile(filepath.Join(root, "plugin", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("plugin/go.mod has no go line")
	}
	if major, _ := strconv.Atoi(string(m[1])); major != 1 {
		t.Fatalf("plugin/go.mod: go %s.%s, TinyGo 0.37 needs 1.x <= 1.24", m[1], m[2])
	}
	if minor, _ := strconv.Atoi(string(m[2])); minor > 24 {
		t.Errorf("plugin/go.mod: go 1.%d is newer than TinyGo 0.37's Go 1.24", minor)
	}

	env := append(os.Environ(), "GOTOOLCHAIN="+tinyGoGo)
	probe := exec.Command("go", "version")
	probe.Dir = t.TempDir() // outside both modules: only the download is tested here
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil || !strings.Contains(string(out), tinyGoGo+" ") {
		msg := "cannot run " + tinyGoGo + " (GOTOOLCHAIN=" + tinyGoGo + " go version: " + strings.TrimSpace(string(out)) + "); it needs the Go module proxy (GOPROXY) or a cached toolchain"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	vet := exec.Command("go", "vet", "./...")
	vet.Dir = filepath.Join(root, "plugin")
	vet.Env = env
	if out, err := vet.CombinedOutput(); err != nil {
		t.Errorf("GOTOOLCHAIN=%s go vet ./... in plugin/: %v\n%s", tinyGoGo, err, out)
	}
}
