package check

import (
	"testing"

	"meshops.dev/meshops/validate/index"
)

// TestHPAVersions: autoscaling/v1 and v2 HPAs name their target alike.
func TestHPAVersions(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		o := &index.Object{Group: "autoscaling", Version: version, Kind: "HorizontalPodAutoscaler", Namespace: "blog", Name: "blog", Content: map[string]any{
			"apiVersion": "autoscaling/" + version, "kind": "HorizontalPodAutoscaler",
			"metadata": map[string]any{"name": "blog", "namespace": "blog"},
			"spec":     map[string]any{"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "blgo"}, "minReplicas": int64(2), "maxReplicas": int64(4)},
		}}
		hpas := decodeHPAsOf([]*index.Object{o})
		if len(hpas) != 1 || hpas[0].HPA.Spec.ScaleTargetRef.Name != "blgo" || *hpas[0].HPA.Spec.MinReplicas != 2 {
			t.Errorf("%s: %+v", version, hpas)
		}
	}
}
