package pins

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func load(t *testing.T) *File {
	t.Helper()
	src, err := os.ReadFile("testdata/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("testdata/kustomization.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// changedLines returns the lines of after that differ from before, by
// comparing both as lists of lines (edits here never reorder).
func diffLines(before, after string) (removed, added []string) {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	inA := map[string]int{}
	for _, l := range a {
		inA[l]++
	}
	inB := map[string]int{}
	for _, l := range b {
		inB[l]++
	}
	for _, l := range b {
		if inA[l] == 0 {
			removed = append(removed, l)
		} else {
			inA[l]--
		}
	}
	for _, l := range a {
		if inB[l] == 0 {
			added = append(added, l)
		} else {
			inB[l]--
		}
	}
	return removed, added
}

func TestSet(t *testing.T) {
	const d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	tests := []struct {
		name, image, tag, digest string
		removed, added           []string
	}{
		{"tag keeps quotes and comment", "docker.io/nginxinc/nginx-unprivileged", "1.27.4-alpine", "",
			[]string{`    newTag: "1.27.3-alpine"`}, []string{`    newTag: "1.27.4-alpine"`}},
		{"short name", "nginx-unprivileged", "1.28.0", "",
			[]string{`    newTag: "1.27.3-alpine"`}, []string{`    newTag: "1.28.0"`}},
		{"tag alone drops the stale digest", "oci://localhost:5000/team/plugin", "v2", "",
			[]string{"    newTag: v1 # pinned by the platform team", "    digest: sha256:1111111111111111111111111111111111111111111111111111111111111111"},
			[]string{"    newTag: v2 # pinned by the platform team"}},
		{"digest alone drops the tag", "oci://localhost:5000/team/plugin", "", d2,
			[]string{"    newTag: v1 # pinned by the platform team", "    digest: sha256:1111111111111111111111111111111111111111111111111111111111111111"},
			[]string{"    digest: " + d2}},
		{"tag and digest", "plugin", "v2", d2,
			[]string{"    newTag: v1 # pinned by the platform team", "    digest: sha256:1111111111111111111111111111111111111111111111111111111111111111"},
			[]string{"    newTag: v2 # pinned by the platform team", "    digest: " + d2}},
		{"oci entry gains newName", "oci://ghcr.io/acme/other", "v4", "",
			[]string{"    newTag: v3"}, []string{"    newTag: v4", "    newName: oci://ghcr.io/acme/other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := load(t)
			before := string(f.Bytes())
			if _, _, err := f.Set(tt.image, tt.tag, tt.digest); err != nil {
				t.Fatal(err)
			}
			removed, added := diffLines(before, string(f.Bytes()))
			if strings.Join(removed, "\n") != strings.Join(tt.removed, "\n") || strings.Join(added, "\n") != strings.Join(tt.added, "\n") {
				t.Errorf("removed %q added %q\nwant removed %q added %q\n%s", removed, added, tt.removed, tt.added, f.Bytes())
			}
		})
	}
}

func TestSetRefuses(t *testing.T) {
	tests := []struct{ image, tag, digest, want string }{
		{"redis", "7", "", `no images: entry for "redis"`},
		{"docker.io/nginxinc/nginx-unprivileged", "1.27 4", "", "is not a valid image tag"},
		{"docker.io/nginxinc/nginx-unprivileged", "latest", "", "latest is no pin"},
		{"docker.io/nginxinc/nginx-unprivileged", "", "sha256:abc", "is not of the form sha256:"},
		{"docker.io/nginxinc/nginx-unprivileged", "", "", "give a tag, a digest, or both"},
	}
	for _, tt := range tests {
		f := load(t)
		before := string(f.Bytes())
		_, _, err := f.Set(tt.image, tt.tag, tt.digest)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%q, %q, %q) = %v, want %q", tt.image, tt.tag, tt.digest, err, tt.want)
		}
		if string(f.Bytes()) != before {
			t.Errorf("Set(%q, %q, %q) changed the file on error", tt.image, tt.tag, tt.digest)
		}
	}
}

func TestPromote(t *testing.T) {
	from := load(t)
	src := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: docker.io/nginxinc/nginx-unprivileged\n  newTag: 1.26.0  # old\n- name: oci://ghcr.io/acme/other\n  newName: oci://ghcr.io/acme/other\n  newTag: v3\n- name: busybox\n  newTag: \"1.36\"\n"
	to, err := Parse("to.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	changes, skipped, err := to.Promote(from, PromoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := string(to.Bytes())
	want := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: docker.io/nginxinc/nginx-unprivileged\n  newTag: 1.27.3-alpine  # old\n- name: oci://ghcr.io/acme/other\n  newName: oci://ghcr.io/acme/other\n  newTag: v3\n- name: busybox\n  newTag: \"1.36\"\n" +
		"- name: oci://localhost:5000/team/plugin\n  newName: oci://localhost:5000/team/plugin\n  newTag: v1 # pinned by the platform team\n  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
	if got != want {
		t.Errorf("promoted file:\n%s\nwant:\n%s", got, want)
	}
	if len(changes) != 2 || changes[0].After.NewTag != "1.27.3-alpine" || !changes[1].Added || len(skipped) != 0 {
		t.Errorf("changes = %+v, skipped %+v", changes, skipped)
	}
}

// dev follows tags; staging pins the same images by tag and digest.
const (
	devPins     = "images:\n- name: busybox\n  newTag: \"1.37\"\n- name: oci://localhost:5000/team/plugin\n  newName: oci://localhost:5000/team/plugin\n  newTag: v2\n- name: docker.io/library/debug-tools\n  newTag: \"7\"\n"
	stagingPins = "images:\n- name: busybox\n  newTag: \"1.36\"\n- name: oci://localhost:5000/team/plugin\n  newName: oci://localhost:5000/team/plugin\n  newTag: v1\n  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
)

func parse(t *testing.T, name, src string) *File {
	t.Helper()
	f, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPromoteResolvesTheDigest: the plugin, pinned by digest in staging and
// by tag in dev, gets the digest Resolve gives for dev's tag; busybox,
// pinned by tag in both, gets the tag; the image staging does not render is
// skipped and reported.
func TestPromoteResolvesTheDigest(t *testing.T) {
	digest := "sha256:" + strings.Repeat("2", 64)
	var asked []Pin
	to := parse(t, "staging.yaml", stagingPins)
	changes, skipped, err := to.Promote(parse(t, "dev.yaml", devPins), PromoteOptions{
		Renders: func(p Pin) bool { return p.Name != "docker.io/library/debug-tools" },
		Resolve: func(p Pin) (string, error) { asked = append(asked, p); return digest, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "images:\n- name: busybox\n  newTag: \"1.37\"\n- name: oci://localhost:5000/team/plugin\n  newName: oci://localhost:5000/team/plugin\n  newTag: v2\n  digest: " + digest + "\n"
	if got := string(to.Bytes()); got != want {
		t.Errorf("promoted file:\n%s\nwant:\n%s", got, want)
	}
	if len(asked) != 1 || asked[0].NewName != "oci://localhost:5000/team/plugin" || asked[0].NewTag != "v2" {
		t.Errorf("Resolve was asked %+v, want the plugin at v2 once", asked)
	}
	if len(changes) != 2 || changes[0].Resolved || !changes[1].Resolved || changes[1].After.Digest != digest {
		t.Errorf("changes %+v", changes)
	}
	if len(skipped) != 1 || skipped[0].Name != "docker.io/library/debug-tools" {
		t.Errorf("skipped %+v, want the debug image", skipped)
	}
}

// TestPromoteSameTagKeepsTheDigest: staging already runs dev's tag, by
// digest: nothing to ask the registry, nothing to change.
func TestPromoteSameTagKeepsTheDigest(t *testing.T) {
	to := parse(t, "staging.yaml", stagingPins)
	from := parse(t, "dev.yaml", strings.Replace(strings.Replace(devPins, "newTag: v2", "newTag: v1", 1), `"1.37"`, `"1.36"`, 1))
	changes, _, err := to.Promote(from, PromoteOptions{Resolve: func(p Pin) (string, error) {
		t.Errorf("Resolve(%+v) called", p)
		return "", nil
	}})
	if err != nil || len(changes) != 1 || !changes[0].Added || string(to.Bytes()) != stagingPins+"- name: docker.io/library/debug-tools\n  newTag: \"7\"\n" {
		t.Errorf("changes %+v, %v:\n%s", changes, err, to.Bytes())
	}
}

// TestPromoteRefusesWithoutADigest: no resolver, or one that fails, or
// one that gives no digest: an error naming the image (rollout then writes
// nothing).
func TestPromoteRefusesWithoutADigest(t *testing.T) {
	for _, tt := range []struct {
		resolve func(Pin) (string, error)
		want    string
	}{
		{nil, "pins oci://localhost:5000/team/plugin by digest and dev.yaml pins tag v2 only"},
		{func(Pin) (string, error) {
			return "", fmt.Errorf("cannot resolve the digest of localhost:5000/team/plugin:v2: refused")
		}, "localhost:5000/team/plugin:v2: refused"},
		{func(Pin) (string, error) { return "sha256:abc", nil }, `oci://localhost:5000/team/plugin: digest "sha256:abc" is not of the form`},
	} {
		to := parse(t, "staging.yaml", stagingPins)
		_, _, err := to.Promote(parse(t, "dev.yaml", devPins), PromoteOptions{Resolve: tt.resolve})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}
