package check

import (
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"meshops.dev/meshops/validate/index"
)

// PDBSelector checks that a PodDisruptionBudget selects pods.
//
// The disruption controller (kubernetes pkg/controller/disruption/disruption.go,
// trySync) lists the pods of the budget's namespace its selector matches;
// with none it records "NoPods" and the budget protects nothing: the
// workload it was written for is evicted freely during a drain.
var PDBSelector = catalogued("PDB001")

// PDBBlocksDrain checks that a PodDisruptionBudget allows an eviction.
//
// The disruption controller computes disruptionsAllowed = currentHealthy -
// desiredHealthy (getExpectedPodCount: minAvailable as a number is the
// desired count; a percentage, or maxUnavailable, is scaled on the replicas of
// the pods' controller, rounding up), and the eviction API
// (pkg/registry/core/pod/storage/eviction.go, checkAndDecrement) answers 429
// "Cannot evict pod as it would violate the pod's disruption budget" while it
// is 0. minAvailable at or above the replicas, or maxUnavailable 0, keeps it
// at 0 even when every pod is healthy: kubectl drain retries forever and a
// node upgrade never finishes.
var PDBBlocksDrain = catalogued("PDB002")

func init() {
	PDBSelector.Target = pdbSelector
	PDBBlocksDrain.Target = pdbBlocksDrain
}

type pdbObject struct {
	*index.Object
	PDB policyv1.PodDisruptionBudget
}

func decodePDBs(ix *index.Index) []pdbObject {
	var out []pdbObject
	for _, o := range ix.GroupKind("policy", "PodDisruptionBudget") {
		var p policyv1.PodDisruptionBudget
		if decodeAs(o, &p) {
			out = append(out, pdbObject{o, p})
		}
	}
	return out
}

func pdbSelector(ix *index.Index, _ *Env) []Finding {
	c := PDBSelector
	var out []Finding
	for _, p := range decodePDBs(ix) {
		pods, ok := podsSelected(ix, p.Namespace, p.PDB.Spec.Selector)
		if ok && len(pods) == 0 {
			out = append(out, c.findingAt(ix, p.Object, []string{"spec", "selector"}, "the selector matches no pod template in namespace %s: the budget protects nothing (the disruption controller reports NoPods)", p.Namespace))
		}
	}
	return out
}

func pdbBlocksDrain(ix *index.Index, env *Env) []Finding {
	c := PDBBlocksDrain
	var out []Finding
	for _, p := range decodePDBs(ix) {
		pods, ok := podsSelected(ix, p.Namespace, p.PDB.Spec.Selector)
		if !ok || len(pods) == 0 {
			continue
		}
		expected, known := 0, true
		for _, w := range pods {
			n, scalable := replicasOf(w)
			if !scalable {
				known = false
				break
			}
			if min := hpaMinReplicas(ix, w); min > 0 {
				n = min
			}
			expected += n
		}
		if !known {
			continue
		}
		spec := p.PDB.Spec
		switch {
		case spec.MaxUnavailable != nil:
			max, err := intstr.GetScaledValueFromIntOrPercent(spec.MaxUnavailable, expected, true)
			if err == nil && max <= 0 {
				out = append(out, c.findingAt(ix, p.Object, []string{"spec", "maxUnavailable"}, "maxUnavailable %s allows no eviction of the %d pod(s) it selects: every drain of their nodes blocks forever (429 from the eviction API); allow at least 1", spec.MaxUnavailable.String(), expected))
			}
		case spec.MinAvailable != nil:
			desired, err := intstr.GetScaledValueFromIntOrPercent(spec.MinAvailable, expected, true)
			if err == nil && desired >= expected {
				out = append(out, c.findingAt(ix, p.Object, []string{"spec", "minAvailable"}, "minAvailable %s with %d replica(s) in this environment allows no eviction: every drain of their nodes blocks forever (429 from the eviction API); use maxUnavailable: 1, or a minAvailable below the replicas", spec.MinAvailable.String(), expected))
			}
		}
	}
	return out
}

// hpaMinReplicas returns the minReplicas of an HPA that scales w (the
// fewest pods the budget then sees), 0 when none does.
func hpaMinReplicas(ix *index.Index, w index.Workload) int {
	for _, h := range decodeHPAs(ix) {
		ref := h.HPA.Spec.ScaleTargetRef
		if h.Namespace == w.Namespace && ref.Kind == w.Kind && ref.Name == w.Name {
			if h.HPA.Spec.MinReplicas != nil {
				return int(*h.HPA.Spec.MinReplicas)
			}
			return 1
		}
	}
	return 0
}
