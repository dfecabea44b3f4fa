package check

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// TestServerRules runs K8S007, K8S008 and K8S009 on each fixture of
// testdata/server-rules, rendered as an overlay of its own, and expects the
// exact finding (or none for the *-valid.yaml fixtures). validate/apiserver's
// TestOracle holds the same fixtures to a real kube-apiserver's verdict.
func TestServerRules(t *testing.T) {
	tests := map[string]struct {
		code    string
		line    int // of the field the message names, or of its list element
		message string
	}{
		"deployment-valid.yaml":       {},
		"service-valid.yaml":          {},
		"unknown-kind-valid.yaml":     {},
		"pull-policy.yaml":            {"K8S007", 19, `spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`},
		"container-port.yaml":         {"K8S007", 21, `spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 80800: must be between 1 and 65535, inclusive`},
		"deployment-replicas.yaml":    {"K8S009", 7, `spec.replicas: Invalid value: -1: must be greater than or equal to 0`},
		"deployment-strategy.yaml":    {"K8S009", 9, `spec.strategy.type: Unsupported value: "Rolling": supported values: "Recreate", "RollingUpdate"`},
		"duplicate-container.yaml":    {"K8S007", 32, `spec.template.spec.containers[1].name: Duplicate value: "app"`},
		"env-name.yaml":               {"K8S007", 23, `spec.template.spec.containers[0].env[0].name: Invalid value: "MODE=fast": a valid environment variable name must consist only of printable ASCII characters other than '='`},
		"port-name.yaml":              {"K8S007", 20, `[spec.template.spec.containers[0].ports[0].name: Invalid value: "http-alternative": must be no more than 15 characters, spec.template.spec.containers[0].readinessProbe.httpGet.port: Invalid value: "http-alternative": must be no more than 15 characters]`},
		"probe-handler.yaml":          {"K8S007", 25, `spec.template.spec.containers[0].readinessProbe: Required value: must specify a handler type`},
		"restart-policy.yaml":         {"K8S009", 16, `spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
		"rolling-update.yaml":         {"K8S009", 11, "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0\": may not be 0 when `maxSurge` is 0"},
		"service-duplicate-port.yaml": {"K8S008", 13, `spec.ports[1]: Duplicate value: "{Protocol: TCP, Port: 80}"`},
		"service-protocol.yaml":       {"K8S008", 12, `spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`},
		"service-selector.yaml":       {"K8S008", 7, `spec.selector: Invalid value: "web shop": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`},
		"service-unnamed-ports.yaml":  {"K8S008", 10, `[spec.ports[0].name: Required value, spec.ports[1].name: Required value]`},
		"volume-mount.yaml":           {"K8S007", 30, `spec.template.spec.containers[0].volumeMounts[0].name: Not found: "cahce"`},
	}
	files, err := filepath.Glob("testdata/server-rules/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/server-rules: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			ix := renderFixture(t, f)
			var got []Finding
			for _, c := range []*Check{PodTemplateRules, ServiceRules, WorkloadRules} {
				got = append(got, c.Run(ix, &Env{})...)
			}
			if !ok {
				t.Fatalf("fixture %s has no expectation in the test; it gives %v", name, got)
			}
			if want.code == "" {
				for _, f := range got {
					t.Errorf("unexpected finding: %s", f)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d findings, want one %s: %v", len(got), want.code, got)
			}
			g := got[0]
			file := path.Join("overlays", strings.TrimSuffix(name, ".yaml"), name)
			if g.Code != want.code || g.Message != want.message || g.File != file || g.Line != want.line {
				t.Errorf("got %s %s:%d %q\nwant %s %s:%d %q", g.Code, g.File, g.Line, g.Message, want.code, file, want.line, want.message)
			}
		})
	}
}

// renderFixture renders one manifest as the only resource of an overlay.
func renderFixture(t *testing.T, file string) *index.Index {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(file)
	dir := path.Join("overlays", strings.TrimSuffix(name, ".yaml"))
	tree := render.NewTree("server-rules")
	for rel, content := range map[string][]byte{
		path.Join(dir, name):                 data,
		path.Join(dir, "kustomization.yaml"): []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + name + "\n"),
	} {
		if err := tree.Add(rel, content); err != nil {
			t.Fatal(err)
		}
	}
	res, err := kustomize.Render(tree, render.Target{Kind: render.Overlay, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return index.New(res)
}
