package apiserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindBinariesNamesWhatIsMissing: a directory with only etcd names
// kube-apiserver and how to build it.
func TestFindBinariesNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := FindBinaries(dir)
	if err == nil {
		t.Fatal("FindBinaries accepted a directory without kube-apiserver")
	}
	want := "missing " + filepath.Join(dir, "kube-apiserver") + " (build them with make kube-tools, which builds the tools/kube module)"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// TestStartFailureIsOneLineAndLeavesNothing starts a kube-apiserver that
// refuses its flags: Start returns one line with the cause from the log's
// tail, and neither etcd nor kube-apiserver is left running.
func TestStartFailureIsOneLineAndLeavesNothing(t *testing.T) {
	bins := binaries(t)
	dir := t.TempDir()
	_, err := Start(context.Background(), bins, Options{Dir: dir, APIServerArgs: []string{"--no-such-flag"}})
	if err == nil {
		t.Fatal("Start succeeded with an unknown kube-apiserver flag")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error spans several lines: %q", msg)
	}
	for _, want := range []string{"kube-apiserver exited before it was ready", "unknown flag: --no-such-flag", filepath.Join(dir, "kube-apiserver.log")} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if left := processesUsing(t, dir); len(left) > 0 {
		t.Errorf("processes left behind: %s", strings.Join(left, "; "))
	}
}

// processesUsing lists the running processes whose command line names dir.
func processesUsing(t *testing.T, dir string) []string {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(cmdline, dir) {
			out = append(out, filepath.Base(filepath.Dir(p))+": "+cmdline)
		}
	}
	return out
}

// TestStartStopsEtcdWhenKubeAPIServerCannotRun: etcd is up when
// kube-apiserver fails to start at all; Start stops etcd before it returns.
func TestStartStopsEtcdWhenKubeAPIServerCannotRun(t *testing.T) {
	bins := binaries(t)
	dir := t.TempDir()
	bins.KubeAPIServer = filepath.Join(dir, "no-such-kube-apiserver")
	_, err := Start(context.Background(), bins, Options{Dir: dir})
	if err == nil {
		t.Fatal("Start succeeded without a kube-apiserver binary")
	}
	want := "start kube-apiserver: fork/exec " + bins.KubeAPIServer + ": no such file or directory"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if left := processesUsing(t, dir); len(left) > 0 {
		t.Errorf("processes left behind: %s", strings.Join(left, "; "))
	}
}
