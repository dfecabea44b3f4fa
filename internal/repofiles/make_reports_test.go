package repofiles

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMakeReportsAreDocuments: make validate OUTPUT=json|sarif > file,
// make diff > file and make explain OUTPUT=json > file write exactly what
// the program prints: make echoes no recipe line into the document. The
// programs are stand-ins that print a marker document (the Makefile's
// binary variables point at them; they are newer than the sources, so make
// builds nothing).
func TestMakeReportsAreDocuments(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "prog")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho '{\"document\": true}'\necho \"args: $*\" >&2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"validate", "OUTPUT=json", "VALIDATE=" + fake},
		{"validate", "OUTPUT=sarif", "VALIDATE=" + fake},
		{"diff", "ROLLOUT=" + fake},
		{"explain", "ENV=dev", "OUTPUT=json", "EXPLAIN=" + fake},
	} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command("make", append([]string{"-C", abs, "--no-print-directory"}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("make %v: %v\n%s", args, err, stderr.String())
		}
		if stdout.String() != "{\"document\": true}\n" {
			t.Errorf("make %v > file writes %q, want only the program's output", args, stdout.String())
		}
		if !bytes.Contains(stderr.Bytes(), []byte("args: ")) {
			t.Errorf("make %v did not run the program: %s", args, stderr.String())
		}
	}
}
