package helm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

// istioRelease is a release of one of Istio's charts at the module's release.
func istioRelease(engine render.Kind, chart, name, namespace string, values map[string]any) *Release {
	e := &render.EntryPoint{Engine: engine, File: "clusters/x/istio.yaml", Line: 3, Kind: "HelmRelease", Namespace: namespace, Name: name}
	return &Release{Entry: e, RepoURL: IstioRepositories[0], Chart: chart, Version: IstioVersion() + ".0", Name: name,
		Namespace: namespace, ObjectNamespace: namespace, Values: values, IncludeCRDs: true}
}

func podLabels(t *testing.T, res *render.Result, kind string) map[string]string {
	t.Helper()
	for _, r := range res.Resources.Resources() {
		if r.GetKind() != kind {
			continue
		}
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := m["spec"].(map[string]any)
		tpl, _ := spec["template"].(map[string]any)
		meta, _ := tpl["metadata"].(map[string]any)
		labels, _ := meta["labels"].(map[string]any)
		out := map[string]string{}
		for k, v := range labels {
			out[k], _ = v.(string)
		}
		return out
	}
	t.Fatalf("no %s rendered", kind)
	return nil
}

// The gateway chart labels its pods istio: <release name without "istio-">
// (manifests/charts/gateway/templates/_helpers.tpl): the release name Argo
// CD defaults to the Application's name decides what a Gateway selects.
func TestGatewayLabelsFollowReleaseName(t *testing.T) {
	tree := render.NewTree(t.TempDir())
	for name, want := range map[string]string{"istio-ingressgateway": "ingressgateway", "istio-ingressgateway-dev": "ingressgateway-dev", "edge": "edge"} {
		res, err := Render(tree, istioRelease(render.ArgoHelm, "gateway", name, "istio-ingress", nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := podLabels(t, res, "Deployment")["istio"]; got != want {
			t.Errorf("release %s: pod label istio=%q, want %q", name, got, want)
		}
		for _, r := range res.Resources.Resources() {
			if r.GetNamespace() != "istio-ingress" {
				t.Errorf("release %s: %s %s in namespace %q, want the release's", name, r.GetKind(), r.GetName(), r.GetNamespace())
			}
		}
	}
}

// Values reach the templates, and the chart's own labels value overrides
// the release-name default.
func TestValuesOverrideChartDefaults(t *testing.T) {
	tree := render.NewTree(t.TempDir())
	rel := istioRelease(render.FluxHelm, "gateway", "istio-ingressgateway-dev", "edge", map[string]any{"labels": map[string]any{"istio": "ingressgateway"}})
	rel.Set = []string{"replicaCount=3", "autoscaling.enabled=false"}
	res, err := Render(tree, rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := podLabels(t, res, "Deployment")["istio"]; got != "ingressgateway" {
		t.Errorf("pod label istio=%q, want the value's ingressgateway", got)
	}
	for _, r := range res.Resources.Resources() {
		if r.GetKind() == "Deployment" {
			m, _ := r.Map()
			if got := m["spec"].(map[string]any)["replicas"]; got != int64(3) && got != 3 && got != float64(3) {
				t.Errorf("replicas = %v (%T), want --set's 3", got, got)
			}
		}
	}
	if src := res.Source(res.Resources.Resources()[0]); src != rel.Entry.File {
		t.Errorf("source %q, want the release's file %q", src, rel.Entry.File)
	}
	if res.EntryLine() != rel.Entry.Line {
		t.Errorf("entry line %d, want %d", res.EntryLine(), rel.Entry.Line)
	}
}

// Istio's base chart installs the CRDs the validator's Istio speaks for.
func TestBaseInstallsIstioCRDs(t *testing.T) {
	res, err := Render(render.NewTree(t.TempDir()), istioRelease(render.FluxHelm, "base", "istio-base", "istio-system", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	var crds []string
	for _, r := range res.Resources.Resources() {
		if r.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, r.GetName())
		}
	}
	if !contains(crds, "virtualservices.networking.istio.io") || !contains(crds, "wasmplugins.extensions.istio.io") {
		t.Errorf("base renders CRDs %v, want Istio's", crds)
	}
}

func TestBadValuesFailToRender(t *testing.T) {
	rel := istioRelease(render.FluxHelm, "gateway", "gw", "istio-ingress", map[string]any{"service": map[string]any{"type": 42}})
	_, err := Render(render.NewTree(t.TempDir()), rel, nil)
	var re *RenderError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a RenderError (values.schema.json refuses a number for service.type)", err)
	}
}

func TestChartNotCached(t *testing.T) {
	e := &render.EntryPoint{Engine: render.FluxHelm, File: "f.yaml", Line: 1, Name: "podinfo"}
	rel := &Release{Entry: e, RepoURL: "https://stefanprodan.github.io/podinfo", Chart: "podinfo", Version: "6.7.0", Name: "podinfo", Namespace: "default"}
	_, err := Render(render.NewTree(t.TempDir()), rel, NoCharts{})
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("got %v, want ErrNotCached", err)
	}
}

// A chart of this repository renders from the tree.
func TestLocalChart(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
	write("charts/web/values.yaml", "port: 80\n")
	write("charts/web/templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n  - port: {{ .Values.port }}\n")
	tree, err := render.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &render.EntryPoint{Engine: render.ArgoHelm, File: "clusters/a/app.yaml", Line: 1, Name: "web"}
	res, err := Render(tree, &Release{Entry: e, LocalPath: "charts/web", Name: "web-dev", Namespace: "web", ObjectNamespace: "web", Values: map[string]any{"port": 8080}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := res.Resources.Resources()
	if len(rs) != 1 || rs[0].GetName() != "web-dev" || rs[0].GetNamespace() != "web" || !strings.Contains(rs[0].MustString(), "port: 8080") {
		t.Fatalf("rendered %v", rs)
	}
}

func TestIstioVersionMatches(t *testing.T) {
	v := IstioVersion()
	if !strings.Contains(v, ".") {
		t.Fatalf("IstioVersion() = %q", v)
	}
	for version, want := range map[string]bool{
		v + ".0": true, v + ".4": true, v + ".x": true, "~" + v + ".0": true,
		"1.27.3": false, ">=1.0.0": false, "*": false, "": false,
	} {
		if got := IstioVersionMatches(version); got != want {
			t.Errorf("IstioVersionMatches(%q) = %v, want %v", version, got, want)
		}
	}
}

func TestShortenReleaseName(t *testing.T) {
	short := "istio-system-istio-ingressgateway"
	if got := shortenReleaseName(short); got != short {
		t.Errorf("%q shortened to %q", short, got)
	}
	long := strings.Repeat("a", 60)
	got := shortenReleaseName(long)
	if len(got) != 53 || !strings.HasPrefix(got, strings.Repeat("a", 40)+"-") {
		t.Errorf("shortened to %q (len %d), want 40 characters, a hyphen and 12 of a hash", got, len(got))
	}
}

// The embedded charts are the pinned module's: `go generate` copies them.
func TestIstioChartsMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("needs the go command and the istio.io/istio module in the module cache: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if want, _ := os.ReadFile(filepath.Join(mod, "VERSION")); strings.TrimSpace(string(want)) != IstioVersion() {
		t.Errorf("embedded VERSION %q, module's %q: run go generate ./validate/render/helm", IstioVersion(), strings.TrimSpace(string(want)))
	}
	for name, dir := range IstioChartDirs {
		src := filepath.Join(mod, "manifests", "charts", filepath.FromSlash(dir))
		n := 0
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			want, _ := os.ReadFile(p)
			got, err := istioCharts.ReadFile(IstioChartsDir + "/" + name + "/" + filepath.ToSlash(rel))
			if err != nil || string(got) != string(want) {
				t.Errorf("chart %s: %s differs from the module's: run go generate ./validate/render/helm", name, rel)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := countEmbedded(IstioChartsDir + "/" + name)
		if entries != n {
			t.Errorf("chart %s: %d files embedded, the module has %d: run go generate ./validate/render/helm", name, entries, n)
		}
	}
}

func BenchmarkRenderIstio(b *testing.B) {
	tree := render.NewTree(b.TempDir())
	for i := 0; i < b.N; i++ {
		for _, c := range []string{"base", "istiod", "gateway"} {
			if _, err := Render(tree, istioRelease(render.FluxHelm, c, "istio-"+c, "istio-system", nil), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
