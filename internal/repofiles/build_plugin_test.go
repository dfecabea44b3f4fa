package repofiles

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// toolDir returns a directory holding only the commands the build script
// needs besides TinyGo and Docker (bash and coreutils), plus the given fake
// scripts, for use as PATH.
func toolDir(t *testing.T, fakes map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"bash", "dirname", "timeout", "rm", "cp", "mv"} {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("the build script test needs %s on PATH: %v", name, err)
		}
		if err := os.Symlink(path, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range fakes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!"+filepath.Join(dir, "bash")+"\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuildPluginWithoutTools runs scripts/build-plugin.sh where it cannot
// build: no TinyGo and no Docker, or a Docker client whose engine does not
// answer, or one without buildx. Each must print exactly one line naming
// what to install and exit 2, without starting a build.
func TestBuildPluginWithoutTools(t *testing.T) {
	script, err := filepath.Abs(filepath.Join(root, "scripts", "build-plugin.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// A fake docker logs every call, so the test sees that no build started.
	const noEngine = `echo "$*" >> "$DOCKER_LOG"
[ "$1" = info ] && { echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; }
exit 0
`
	const noBuildx = `echo "$*" >> "$DOCKER_LOG"
[ "$1" = buildx ] && { echo "docker: 'buildx' is not a docker command." >&2; exit 1; }
exit 0
`
	cases := []struct {
		name  string
		fakes map[string]string
	}{
		{"neither tool", nil},
		{"docker engine down", map[string]string{"docker": noEngine}},
		{"docker without buildx", map[string]string{"docker": noBuildx}},
	}
	for _, c := range cases {
		for _, mode := range []string{"wasm", "image"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				work := t.TempDir()
				log := filepath.Join(work, "docker.log")
				arg := filepath.Join(work, "plugin.wasm")
				if mode == "image" {
					arg = "registry.fork.test:5443/platform/edge-headers:v1.0.0"
				}
				bin := toolDir(t, c.fakes)
				cmd := exec.Command(filepath.Join(bin, "bash"), script, mode, arg)
				cmd.Dir = work
				cmd.Env = []string{"PATH=" + bin, "HOME=" + work, "DOCKER_LOG=" + log}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 2 {
					t.Fatalf("exit: %v, want status 2\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
				}
				lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
				if len(lines) != 1 || stdout.Len() != 0 {
					t.Fatalf("want exactly one line on stderr and nothing on stdout, got stderr %q, stdout %q", stderr.String(), stdout.String())
				}
				if !strings.Contains(lines[0], "Docker engine with buildx") {
					t.Errorf("%q does not name a Docker engine with buildx", lines[0])
				}
				if mode == "wasm" && !strings.Contains(lines[0], "TinyGo 0.37") {
					t.Errorf("%q does not name TinyGo 0.37", lines[0])
				}
				calls, _ := os.ReadFile(log)
				for _, call := range strings.Split(string(calls), "\n") {
					if strings.HasPrefix(call, "build ") || strings.HasPrefix(call, "buildx build") {
						t.Errorf("a build was started: docker %s", call)
					}
				}
				if _, err := os.Stat(filepath.Join(work, "plugin.wasm")); err == nil {
					t.Error("plugin.wasm was written")
				}
			})
		}
	}
}

// TestMakePluginUsesTheScript keeps make plugin and make image on the script
// tested above.
func TestMakePluginUsesTheScript(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scripts/build-plugin.sh wasm", "scripts/build-plugin.sh image"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the Makefile does not run %s", want)
		}
	}
}
