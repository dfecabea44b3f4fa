package check

import "testing"

func TestNormalizeRepoURL(t *testing.T) {
	same := []string{
		"https://github.com/acme/meshops.git",
		"https://github.com/Acme/meshops/",
		"ssh://git@github.com/acme/meshops",
		"git@github.com:acme/meshops.git",
	}
	for _, u := range same {
		if got := normalizeRepoURL(u); got != "github.com/acme/meshops" {
			t.Errorf("normalizeRepoURL(%q) = %q", u, got)
		}
	}
	if normalizeRepoURL("https://github.com/acme/other.git") == "github.com/acme/meshops" {
		t.Error("another repository compares equal")
	}
}
