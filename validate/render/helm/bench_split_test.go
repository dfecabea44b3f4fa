package helm

import (
	"testing"

	"meshops.dev/meshops/validate/render"
)

func BenchmarkRenderIstioChart(b *testing.B) {
	tree := render.NewTree(b.TempDir())
	for _, c := range []string{"base", "istiod", "gateway"} {
		b.Run(c, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Render(tree, istioRelease(render.FluxHelm, c, "istio-"+c, "istio-system", nil), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderBaseShared renders Istio's base chart under three release
// names with one Renderer, as a run renders one per cluster.
func BenchmarkRenderBaseShared(b *testing.B) {
	tree := render.NewTree(b.TempDir())
	for i := 0; i < b.N; i++ {
		rd := &Renderer{}
		for _, name := range []string{"istio-base-dev", "istio-base-staging", "istio-base-prod"} {
			if _, err := rd.Render(tree, istioRelease(render.ArgoHelm, "base", name, "istio-system", nil)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
