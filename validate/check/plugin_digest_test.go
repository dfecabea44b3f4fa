package check_test

import (
	"testing"

	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/pipeline"
)

// TestPluginDigest runs IMG003 on two fixture repositories: in both, dev
// (synced by Flux) follows a tag and qa (synced by nothing) does too; prod
// (synced by Argo CD) pins by tag only in one and by tag and digest in the other.
func TestPluginDigest(t *testing.T) {
	run := func(dir string) []check.Finding {
		t.Helper()
		res, err := pipeline.Run(dir, pipeline.Options{RootNamespace: "istio-system", Checks: []*check.Check{check.PluginDigest}})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		return res.Findings
	}
	got := run("testdata/plugin-digest/tag-only")
	if len(got) != 1 {
		t.Fatalf("tag-only: want exactly one IMG003 finding, got %v", got)
	}
	want := check.Finding{
		Code: "IMG003", Severity: check.Error, Target: "overlays/prod", File: "overlays/prod/kustomization.yaml", Line: 6,
		Resource: "WasmPlugin web/edge",
		Message: "overlays/prod pins the plugin oci://registry.fixture.test:5443/team/edge:v1.0.0 by tag only and is synced by " +
			"clusters/prod/argocd/application.yaml: a re-pushed tag would change what Envoy runs; add the pushed image's digest to " +
			"the images: entry (make push prints it; make bump ENV=prod IMAGE=oci://registry.fixture.test:5443/team/edge TAG=<tag> DIGEST=sha256:...)",
	}
	if f := got[0]; f.Code != want.Code || f.Severity != want.Severity || f.Target != want.Target || f.File != want.File ||
		f.Line != want.Line || f.Resource != want.Resource || f.Message != want.Message {
		t.Errorf("got  %s\nwant %s", f, want)
	}
	if got := run("testdata/plugin-digest/pinned"); len(got) != 0 {
		t.Errorf("pinned: want no finding, got %v", got)
	}
}
