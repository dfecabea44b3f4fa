package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meshops.dev/meshops/internal/wasmimage"
)

// module is a small valid Wasm module: the header and a custom section.
var module = append([]byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x04, 'n', 'o', 't', 'e'}, []byte("xyz")...)

// startRegistry runs Debian's docker-registry (distribution 2.8) on a free
// loopback port and stops it when the test ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed (apt-get install docker-registry; .ci/run installs it): skipping the registry round trip")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPushPullRoundTrip pushes through make push's code path and pulls back
// the way Istio's fetcher does.
func TestPushPullRoundTrip(t *testing.T) {
	addr := startRegistry(t)
	wasmPath := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := os.WriteFile(wasmPath, module, 0o644); err != nil {
		t.Fatal(err)
	}
	image := addr + "/team/plugin:v1"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--wasm", wasmPath, "oci://" + image}, &stdout, &stderr); code != 0 {
		t.Fatalf("pushwasm exited %d: %s", code, stderr.String())
	}
	got, digest, err := wasmimage.Pull(context.Background(), image)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, module) {
		t.Errorf("pulled module differs from the pushed one: %x vs %x", got, module)
	}
	if !strings.Contains(stdout.String(), "digest "+digest.String()+"\n") {
		t.Errorf("printed digest is not the pulled manifest's %s:\n%s", digest, stdout.String())
	}
	// Istio pins by digest as well: the same bytes come back by digest.
	byDigest, d2, err := wasmimage.Pull(context.Background(), addr+"/team/plugin@"+digest.String())
	if err != nil || !bytes.Equal(byDigest, module) || d2 != digest {
		t.Errorf("pull by digest: %v, digest %s", err, d2)
	}
	img, err := wasmimage.Build(module)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	mt, _ := layers[0].MediaType()
	if len(layers) != 1 || mt != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Errorf("image has %d layers, media type %s; want one tar+gzip layer", len(layers), mt)
	}
}

func TestRefusesNonWasm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho not wasm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"--wasm", path, "127.0.0.1:1/team/plugin:v1"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), path+": not a WebAssembly module") {
		t.Errorf("exit %d, stderr %q: want a refusal naming the file", code, stderr.String())
	}
}

func TestMissingFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--wasm", "does-not-exist.wasm", "127.0.0.1:1/team/plugin:v1"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "does-not-exist.wasm") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
