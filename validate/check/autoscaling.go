package check

import (
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"meshops.dev/meshops/validate/index"
)

// HPATarget checks that a HorizontalPodAutoscaler scales something.
//
// The HPA controller (kubernetes pkg/controller/podautoscaler/horizontal.go,
// reconcileAutoscaler) reads the target through the scale subresource of
// scaleTargetRef's kind and name in the HPA's own namespace
// (scaleForResourceMappings); when there is none it records FailedGetScale
// and the condition AbleToScale=False, and never scales. Deployments,
// StatefulSets and ReplicaSets serve /scale; a DaemonSet, Job or Pod does not.
var HPATarget = catalogued("AS001")

// HPAReplicas warns about a workload that sets replicas while an HPA
// manages it.
//
// The HPA writes replicas through /scale; kustomize-controller applies the
// manifest again with server-side apply on every reconciliation
// (--force, field manager kustomize-controller), and Argo CD's self-heal syncs
// the drift back, so spec.replicas returns to the manifest's value and the
// autoscaler's decision is undone until its next sync (Argo CD's documentation,
// "Leaving out replicas when using HPA"; Flux's FAQ). Leave replicas out.
var HPAReplicas = catalogued("AS002")

func init() {
	HPATarget.Target = hpaTarget
	HPAReplicas.Target = hpaReplicas
}

// scalableKinds serve the scale subresource the HPA controller needs.
var scalableKinds = map[string]string{"Deployment": "apps", "StatefulSet": "apps", "ReplicaSet": "apps", "ReplicationController": ""}

// hpaObject is a HorizontalPodAutoscaler with its spec in the v2 form.
type hpaObject struct {
	*index.Object
	HPA autoscalingv2.HorizontalPodAutoscaler
}

func decodeHPAs(ix *index.Index) []hpaObject {
	return decodeHPAsOf(ix.GroupKind("autoscaling", "HorizontalPodAutoscaler"))
}

// decodeHPAsOf decodes HorizontalPodAutoscaler objects of autoscaling/v1 or v2.
func decodeHPAsOf(objects []*index.Object) []hpaObject {
	var out []hpaObject
	for _, o := range objects {
		var h autoscalingv2.HorizontalPodAutoscaler
		ok := o.Version == "v2" && decodeAs(o, &h)
		if var1 := (autoscalingv1.HorizontalPodAutoscaler{}); o.Version == "v1" && decodeAs(o, &var1) {
			// autoscaling/v1 names its target and bounds the same way.
			ref := var1.Spec.ScaleTargetRef
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: ref.APIVersion, Kind: ref.Kind, Name: ref.Name}
			h.Spec.MinReplicas, h.Spec.MaxReplicas = var1.Spec.MinReplicas, var1.Spec.MaxReplicas
			ok = true
		}
		if ok {
			out = append(out, hpaObject{o, h})
		}
	}
	return out
}

func hpaTarget(ix *index.Index, _ *Env) []Finding {
	c := HPATarget
	var out []Finding
	for _, h := range decodeHPAs(ix) {
		ref := h.HPA.Spec.ScaleTargetRef
		group, _, _ := strings.Cut(ref.APIVersion, "/")
		if !strings.Contains(ref.APIVersion, "/") {
			group = ""
		}
		if g, ok := scalableKinds[ref.Kind]; ok && g == group {
			if ix.Get(ref.Kind, h.Namespace, ref.Name) == nil {
				out = append(out, c.findingAt(ix, h.Object, []string{"spec", "scaleTargetRef", "name"}, "scaleTargetRef names %s %s/%s, which this target does not deploy: the HPA controller fails to get its scale (FailedGetScale) and never scales", ref.Kind, h.Namespace, ref.Name))
			}
			continue
		}
		// Another kind: a custom resource may serve /scale (its CRD's
		// subresources.scale); it must at least exist.
		found := false
		for _, o := range ix.GroupKind(group, ref.Kind) {
			if o.Namespace == h.Namespace && o.Name == ref.Name {
				found = true
			}
		}
		switch {
		case !found:
			out = append(out, c.findingAt(ix, h.Object, []string{"spec", "scaleTargetRef"}, "scaleTargetRef names %s %s %s/%s, which this target does not deploy: the HPA controller fails to get its scale (FailedGetScale) and never scales", ref.APIVersion, ref.Kind, h.Namespace, ref.Name))
		case ref.Kind == "DaemonSet" || ref.Kind == "Job" || ref.Kind == "CronJob" || ref.Kind == "Pod":
			out = append(out, c.findingAt(ix, h.Object, []string{"spec", "scaleTargetRef", "kind"}, "scaleTargetRef names a %s, which has no scale subresource: the HPA controller fails to get its scale (FailedGetScale) and never scales", ref.Kind))
		}
	}
	return out
}

func hpaReplicas(ix *index.Index, _ *Env) []Finding {
	c := HPAReplicas
	var out []Finding
	for _, h := range decodeHPAs(ix) {
		ref := h.HPA.Spec.ScaleTargetRef
		if _, ok := scalableKinds[ref.Kind]; !ok {
			continue
		}
		t := ix.Get(ref.Kind, h.Namespace, ref.Name)
		if t == nil {
			continue
		}
		if _, set := t.Spec()["replicas"]; set {
			out = append(out, c.findingAt(ix, t, []string{"spec", "replicas"}, "%s sets spec.replicas while HorizontalPodAutoscaler %s scales it: every Flux reconciliation or Argo CD self-heal resets the replicas the autoscaler chose; leave replicas out (and drop any kustomize replicas: entry for it)", t, h.Name))
		}
	}
	return out
}
