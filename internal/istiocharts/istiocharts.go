// Package istiocharts renders the Helm charts of the pinned istio.io/istio
// module (manifests/charts) with Helm's SDK, as helm template does: tests'
// real renders of Istio's gateway and istiod releases. Tests only.
package istiocharts

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

// Dir is manifests/charts of the pinned istio.io/istio module.
func Dir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skipf("needs the go command to find the pinned istio.io/istio module's charts in the module cache (go list -m istio.io/istio): %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "manifests", "charts")
}

// Render renders one of Istio's charts as a Helm release with Helm's
// SDK (chart loader, values coalesced with the chart's, template engine), as
// helm template does, and returns its objects.
func Render(t testing.TB, chartDir, name, namespace string, values map[string]any) []map[string]any {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: name, Namespace: namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	var objs []map[string]any
	for _, f := range names {
		if !strings.HasSuffix(f, ".yaml") {
			continue
		}
		dec := yamlv3.NewDecoder(bytes.NewReader([]byte(files[f])))
		for {
			var doc any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc == nil {
				continue
			}
			data, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(data, &obj); err != nil {
				t.Fatal(err)
			}
			if obj["kind"] != nil {
				objs = append(objs, obj)
			}
		}
	}
	return objs
}
