package charts

import (
	"fmt"
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

func TestPins(t *testing.T) {
	tree, err := render.LoadDir("testdata/repo")
	if err != nil {
		t.Fatal(err)
	}
	pins, err := Pins(tree)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pins {
		s := p.String()
		if p.Problem != "" {
			s += " | " + p.Problem
		}
		istio, same := IstioChart(p, "1.31")
		s += fmt.Sprintf(" | istio=%v same=%v", istio, same)
		got = append(got, s)
	}
	want := []string{
		"infrastructure/releases.yaml:1: HelmRelease podinfo/podinfo: chart podinfo 6.5.0 from https://stefanprodan.github.io/podinfo | istio=false same=false",
		"infrastructure/releases.yaml:17: HelmRelease cert-manager/cert-manager: chart cert-manager v1.16.2 from oci://quay.io/jetstack/charts | istio=false same=false",
		"infrastructure/releases.yaml:32: HelmRelease istio-system/istiod: chart istiod 1.31.0 from https://istio-release.storage.googleapis.com/charts | istio=true same=true",
		`infrastructure/releases.yaml:47: HelmRelease podinfo/floating: chart podinfo >=6.0.0 from https://stefanprodan.github.io/podinfo | spec.chart.spec.version ">=6.0.0" is not an exact version: pin one (1.2.3) so the cache and the cluster install the same chart | istio=false same=false`,
		"infrastructure/releases.yaml:63: HelmRelease podinfo/orphan: chart podinfo 6.5.0 from  | names HelmRepository podinfo/missing, which the repository does not declare | istio=false same=false",
		"clusters/dev/argocd/apps.yaml:1: Application argocd/istio-ingressgateway-dev: chart gateway 1.27.3 from https://istio-release.storage.googleapis.com/charts | istio=true same=false",
		"clusters/dev/argocd/apps.yaml:16: Application argocd/podinfo-dev: chart podinfo 6.5.0 from https://stefanprodan.github.io/podinfo | istio=false same=false",
		"clusters/dev/argocd/apps.yaml:16: Application argocd/podinfo-dev: chart podinfo 6.4.0 from oci://ghcr.io/stefanprodan/charts | istio=false same=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("pins:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
