package check

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"meshops.dev/meshops/validate/index"
)

// decodeAs decodes o's generic form into a k8s.io/api type; false when it
// does not decode (K8S001 reports that).
func decodeAs(o *index.Object, into any) bool {
	return o.Content != nil && runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, into) == nil
}

// podsSelected returns the workloads of namespace whose pod template labels
// sel (a metav1.LabelSelector, as PodDisruptionBudgets and NetworkPolicies
// write it) matches; ok is false for a selector the API server would refuse.
func podsSelected(ix *index.Index, namespace string, sel *metav1.LabelSelector) (out []index.Workload, ok bool) {
	s := labels.Everything()
	if sel != nil {
		var err error
		if s, err = metav1.LabelSelectorAsSelector(sel); err != nil {
			return nil, false
		}
	}
	for _, w := range ix.Workloads(namespace) {
		if s.Matches(labels.Set(w.Template.Labels)) {
			out = append(out, w)
		}
	}
	return out, true
}

// replicasOf returns the replicas a workload asks for (the API server's
// default, 1, when unset) and whether it has a replicas field at all
// (Deployments, StatefulSets, ReplicaSets).
func replicasOf(w index.Workload) (n int, scalable bool) {
	switch w.Kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
	default:
		return 0, false
	}
	switch v := w.Spec()["replicas"].(type) {
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case int:
		return v, true
	}
	return 1, true
}
