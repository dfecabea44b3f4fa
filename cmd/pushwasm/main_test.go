package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/wasmimage"

	"meshops.dev/meshops/internal/testrepo"
)

// module is a small valid Wasm module: the header and a custom section.
var module = append([]byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x04, 'n', 'o', 't', 'e'}, []byte("xyz")...)

// TestPushPullRoundTrip pushes through make push's code path and pulls back
// the way Istio's fetcher does.
func TestPushPullRoundTrip(t *testing.T) {
	addr := testrepo.StartRegistry(t)
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
