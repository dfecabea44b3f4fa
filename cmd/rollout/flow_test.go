package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"meshops.dev/meshops/internal/testrepo"
	"meshops.dev/meshops/internal/wasmimage"
	"meshops.dev/meshops/validate/pipeline"
)

// wasmModule is a small valid Wasm module: the header and a custom section.
var wasmModule = append([]byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x04, 'n', 'o', 't', 'e'}, []byte("xyz")...)

// renovateBump edits file as Renovate's regex managers in renovate.json
// would for a new tag of repository (host[:port]/path, as the docker
// datasource names it): the managers whose managerFilePatterns match rel
// extract it, and the tag they captured as currentValue is replaced, in
// place. It fails unless exactly one match extracts the image.
func renovateBump(t *testing.T, repo, rel, repository, tag string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testrepo.Root(t), "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CustomManagers []struct {
			ManagerFilePatterns []string `json:"managerFilePatterns"`
			MatchStrings        []string `json:"matchStrings"`
			DatasourceTemplate  string   `json:"datasourceTemplate"`
		} `json:"customManagers"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(repo, filepath.FromSlash(rel))
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var spans [][2]int
	for _, m := range cfg.CustomManagers {
		applies := false
		for _, p := range m.ManagerFilePatterns {
			applies = applies || regexp.MustCompile(strings.Trim(p, "/")).MatchString(rel)
		}
		if !applies || m.DatasourceTemplate != "docker" {
			continue
		}
		for _, p := range m.MatchStrings {
			re := regexp.MustCompile(p)
			for _, sm := range re.FindAllSubmatchIndex(src, -1) {
				dn, cv := re.SubexpIndex("depName"), re.SubexpIndex("currentValue")
				if string(src[sm[2*dn]:sm[2*dn+1]]) == repository {
					spans = append(spans, [2]int{sm[2*cv], sm[2*cv+1]})
				}
			}
		}
	}
	if len(spans) != 1 {
		t.Fatalf("renovate.json's managers extract %s %d times from %s, want once:\n%s", repository, len(spans), rel, src)
	}
	out := append(append(append([]byte(nil), src[:spans[0][0]]...), tag...), src[spans[0][1]:]...)
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeRollOut replays the README's "Roll out" flow on a fork whose
// plugin registry is a registry the test runs on a loopback port: push the
// plugin image (make push's code), Renovate's bump of dev's tag, make
// promote FROM=dev TO=staging (which asks the registry for the tag's
// digest, as staging pins by digest), make promote FROM=staging TO=prod,
// then make validate: clean, and prod renders the image the registry
// serves.
func TestReadmeRollOut(t *testing.T) {
	addr := testrepo.StartRegistry(t)
	registry := addr + "/platform/edge-headers"
	repo := testrepo.ForkTo(t, registry)
	testrepo.Commit(t, repo, "fork")
	before := pluginPin(t, repo, "dev")
	if before.NewName != "oci://"+registry || pluginPin(t, repo, "staging").Digest == "" || before.Digest != "" {
		t.Fatalf("the fork pins the plugin as %+v in dev: want %s by tag in dev and by digest in staging", before, registry)
	}
	tag := before.NewTag + "-next"

	// make push IMAGE=<registry>:<tag>
	pushed, err := wasmimage.Push(context.Background(), registry+":"+tag, wasmModule)
	if err != nil {
		t.Fatal(err)
	}

	// Renovate's pull request on dev, merged.
	renovateBump(t, repo, "overlays/dev/kustomization.yaml", registry, tag)
	if got := pluginPin(t, repo, "dev"); got.NewTag != tag || got.Digest != "" {
		t.Fatalf("dev after Renovate's bump: %+v", got)
	}
	testrepo.Commit(t, repo, "dev: update "+registry+" to "+tag)

	// make promote FROM=dev TO=staging
	code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging")
	if code != 0 {
		t.Fatalf("promote dev to staging: exit %d\n%s%s", code, out, errs)
	}
	want := before
	want.NewTag, want.Digest = tag, pushed.String()
	if got := pluginPin(t, repo, "staging"); got != want {
		t.Errorf("staging pins %+v, want %+v", got, want)
	}
	if !strings.Contains(out, "@"+pushed.String()+" (digest of tag "+tag+", from the registry)\n") {
		t.Errorf("promote does not print the registry's digest %s:\n%s", pushed, out)
	}
	testrepo.Commit(t, repo, "promote dev to staging")

	// make promote FROM=staging TO=prod
	if code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "staging", "--to", "prod"); code != 0 {
		t.Fatalf("promote staging to prod: exit %d\n%s%s", code, out, errs)
	}
	if got := pluginPin(t, repo, "prod"); got != want {
		t.Errorf("prod pins %+v, want %+v", got, want)
	}
	testrepo.Commit(t, repo, "promote staging to prod")

	// make validate
	res, err := pipeline.Run(repo, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RenderFailed() || len(res.Findings) > 0 {
		for _, f := range res.Findings {
			t.Error(f.String())
		}
		t.Fatalf("the promoted fork does not validate clean (%d of %d targets rendered)", len(res.Rendered), len(res.Targets))
	}
	url := want.Ref()
	if !strings.Contains(renders(t, repo)["overlays/prod"], "url: "+url+"\n") {
		t.Errorf("prod does not render %s", url)
	}
	// What Envoy in prod fetches is what was pushed.
	got, digest, err := wasmimage.Pull(context.Background(), strings.TrimPrefix(url, "oci://"))
	if err != nil || digest != pushed || string(got) != string(wasmModule) {
		t.Errorf("pull %s: %v, digest %s", url, err, digest)
	}
}

// TestPromoteWithoutARegistry: staging pins the plugin by digest, dev by a
// new tag, and the registry does not answer: one line naming the image,
// staging as it was. DIGEST= pins the digest given without asking it.
func TestPromoteWithoutARegistry(t *testing.T) {
	registry := testrepo.ClosedPort(t) + "/platform/edge-headers"
	repo := testrepo.ForkTo(t, registry)
	dev := pluginPin(t, repo, "dev")
	tag := dev.NewTag + "-next"
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", dev.Name, "--tag", tag); code != 0 {
		t.Fatalf("bump dev: %d %s%s", code, out, errs)
	}
	file := filepath.Join(repo, "overlays/staging/kustomization.yaml")
	before, _ := os.ReadFile(file)
	code, _, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging")
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "cannot resolve the digest of "+registry+":"+tag+": ") || !strings.Contains(errs, "DIGEST=") {
		t.Errorf("exit %d, stderr %q: want 2 and one line naming %s:%s", code, errs, registry, tag)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("a refused promotion changed staging:\n%s", after)
	}

	digest := "sha256:" + strings.Repeat("5e", 32)
	code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging", "--digest", digest)
	if code != 0 || !strings.Contains(out, "(digest given with --digest)") {
		t.Fatalf("promote --digest: exit %d\n%s%s", code, out, errs)
	}
	if got := pluginPin(t, repo, "staging"); got.NewTag != tag || got.Digest != digest {
		t.Errorf("staging pins %+v, want %s@%s", got, tag, digest)
	}
	if code, _, errs := rollout(t, "promote", "--repo", repo, "--from", "staging", "--to", "prod", "--digest", digest); code != 2 || !strings.Contains(errs, "no image needs one") {
		t.Errorf("--digest where no image needs one: exit %d, %s", code, errs)
	}
}

// TestPromoteSkipsWhatTheTargetDoesNotRender: dev runs an extra workload
// with its own pinned image; promoting dev to staging copies the app's new
// tag, reports the dev-only image, and leaves it out of staging.
func TestPromoteSkipsWhatTheTargetDoesNotRender(t *testing.T) {
	repo := copyRepo(t)
	dir := filepath.Join(repo, "overlays/dev")
	debug := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: debug-tools\ndata: {}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: debug-tools\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: tools\n          image: docker.io/library/busybox\n"
	if err := os.WriteFile(filepath.Join(dir, "debug.yaml"), []byte(debug), 0o644); err != nil {
		t.Fatal(err)
	}
	k, _ := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	ks := strings.Replace(string(k), "resources:\n", "resources:\n  - debug.yaml\n", 1)
	keys := regexp.MustCompile(`(?m)^[A-Za-z]`).FindAllStringIndex(ks, -1)
	if !strings.HasSuffix(ks, "\n") || len(keys) == 0 || !strings.HasPrefix(ks[keys[len(keys)-1][0]:], "images:\n") {
		t.Fatalf("overlays/dev's kustomization does not end with its images: list:\n%s", ks)
	}
	ks += "  - name: docker.io/library/busybox\n    newTag: \"1.37\"\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(ks), 0o644); err != nil {
		t.Fatal(err)
	}
	app := appPin(t, repo, "dev")
	if code, out, errs := rollout(t, "bump", "--repo", repo, "--env", "dev", "--image", app.Name, "--tag", "9.9.9-test"); code != 0 {
		t.Fatalf("bump dev: %d %s%s", code, out, errs)
	}
	code, out, errs := rollout(t, "promote", "--repo", repo, "--from", "dev", "--to", "staging")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "docker.io/library/busybox:1.37 not promoted: staging does not render docker.io/library/busybox\n") {
		t.Errorf("promote does not report the dev-only image:\n%s", out)
	}
	if got := appPin(t, repo, "staging"); got.NewTag != "9.9.9-test" {
		t.Errorf("staging's app pin is %+v", got)
	}
	if data, _ := os.ReadFile(filepath.Join(repo, "overlays/staging/kustomization.yaml")); strings.Contains(string(data), "busybox") {
		t.Errorf("staging got the dev-only image:\n%s", data)
	}
}
