package repofiles

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestActionsPinnedBySHA: every action a workflow uses is pinned by a full
// commit SHA, with the release it is in a comment (what Renovate's
// github-actions manager keeps fresh).
func TestActionsPinnedBySHA(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, ".github/workflows/*.y*ml"))
	if len(files) == 0 {
		t.Fatal("no workflow in .github/workflows")
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(.*)$`)
	pinned := regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$`)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(data), -1) {
			n++
			if ref := strings.TrimSpace(m[1]); !strings.HasPrefix(ref, "./") && !pinned.MatchString(ref) {
				t.Errorf("%s: uses: %s is not owner/repo@<40-hex commit SHA> # vX.Y.Z", filepath.Base(f), ref)
			}
		}
	}
	if n == 0 {
		t.Error("the workflows use no action")
	}
}

// TestDockerfileBaseImages: every FROM names a release tag (never latest or
// none); a digest, when present, is a full sha256 one. Renovate's dockerfile
// manager (pinDigests, see TestRenovateSupplyChainRules) adds the digest.
func TestDockerfileBaseImages(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?mi)^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?`)
	tagged := regexp.MustCompile(`^[a-z0-9./_-]+(?::[0-9]+/[a-z0-9./_-]+)?:([A-Za-z0-9_][A-Za-z0-9_.-]*)(@sha256:[0-9a-f]{64})?$`)
	stages := map[string]bool{}
	for _, m := range from.FindAllStringSubmatch(string(data), -1) {
		image := m[1]
		if image == "scratch" || stages[image] {
			continue
		}
		if m[2] != "" {
			stages[m[2]] = true
		}
		sm := tagged.FindStringSubmatch(image)
		if sm == nil || sm[1] == "latest" {
			t.Errorf("FROM %s: name a release tag (and a digest: image:tag@sha256:...)", image)
		}
	}
}
