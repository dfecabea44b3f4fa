package pipeline

import (
	"strings"
	"testing"

	"meshops.dev/meshops/validate/variants"
)

var certificate = variants.Edit{File: "base/certificate.yaml", New: "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: blog\n  namespace: istio-system\nspec:\n  secretNam: blog-tls\n  issuerRef:\n    kind: ClusterIssuer\n    name: letsencrypt\n"}

var withCertificate = variants.Edit{File: "base/kustomization.yaml", Old: "  - wasmplugin\n", New: "  - wasmplugin\n  - certificate.yaml\n"}

// TestNotChecked: without cert-manager's CRD in the repository, a
// Certificate (misspelt field and all) is no finding, but every target
// that renders it lists its kind as not checked.
func TestNotChecked(t *testing.T) {
	res, err := RunTree(forkWith(t, withCertificate, certificate), Options{RootNamespace: "istio-system", Mesh: MeshOff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("findings: %v", res.Findings)
	}
	listed := map[string]bool{}
	for _, u := range res.NotChecked {
		if len(u.Kinds) != 1 || u.Kinds[0] != "cert-manager.io/v1 Certificate (1)" {
			t.Errorf("%s: not checked %v", u.Target, u.Kinds)
		}
		listed[u.Target] = true
	}
	for _, tg := range res.Rendered {
		if strings.HasPrefix(tg.Dir, "overlays/") && !listed[tg.ID()] {
			t.Errorf("%s renders the Certificate but does not list it as not checked", tg.ID())
		}
	}
}

// TestValidateYAMLTurnsACheckOffForAPath: the SCH001 finding of the
// misspelt Certificate disappears when validate.yaml turns SCH001 off for
// its file, and the result says so.
func TestValidateYAMLTurnsACheckOffForAPath(t *testing.T) {
	var edits []variants.Edit
	for _, v := range mustVariants(t) {
		if v.Name == "misspelt certificate field with the CRD in the repository" {
			edits = v.Edits
		}
	}
	if edits == nil {
		t.Fatal("variant \"misspelt certificate field with the CRD in the repository\" not found")
	}
	off := variants.Edit{File: "validate.yaml", New: "checks:\n  SCH001:\n    off: [base/certificate.yaml]\n"}
	res, err := RunTree(forkWith(t, append(edits, off)...), Options{RootNamespace: "istio-system", Mesh: MeshOff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Silenced != 1 || len(res.Off) != 1 || res.Off[0].Code != "SCH001" || res.Off[0].Line != 2 {
		t.Errorf("findings %v, silenced %d, off %+v", res.Findings, res.Silenced, res.Off)
	}
	if len(res.NotChecked) != 0 {
		t.Errorf("the repository's CRD checks the Certificate, yet: %v", res.NotChecked)
	}

	bad := variants.Edit{File: "validate.yaml", New: "checks:\n  SCH001: of\n"}
	if _, err := RunTree(forkWith(t, bad), Options{RootNamespace: "istio-system", Mesh: MeshOff}); err == nil || !strings.HasPrefix(err.Error(), "validate.yaml:2: ") {
		t.Errorf("a malformed validate.yaml: got %v, want validate.yaml:2: ...", err)
	}
}

// TestShippedRepositoryChecksEveryKind: nothing of the repository as
// shipped passes unchecked.
func TestShippedRepositoryChecksEveryKind(t *testing.T) {
	res, err := RunTree(load(t), Options{RootNamespace: "istio-system", Mesh: MeshOff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotChecked) != 0 {
		t.Errorf("not checked: %+v", res.NotChecked)
	}
}

func mustVariants(t *testing.T) []variants.Variant {
	t.Helper()
	all, err := variants.All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}
