package check

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"meshops.dev/meshops/validate/index"
)

// KubernetesNames checks names and labels with apimachinery's own rules.
var KubernetesNames = catalogued("K8S002")

// clusterScoped kinds take no namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"PersistentVolume": true, "StorageClass": true, "PriorityClass": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "GatewayClass": true,
}

func kubernetesNames(ix *index.Index, _ *Env) []Finding {
	c := KubernetesNames
	var out []Finding
	for _, o := range ix.Objects {
		nameFn := apivalidation.NameIsDNSSubdomain
		switch o.Kind {
		case "Namespace", "Service":
			nameFn = apivalidation.NameIsDNSLabel
		}
		namespaced := !clusterScoped[o.Kind]
		meta := metav1.ObjectMeta{Name: o.Name, Labels: o.Labels(), Annotations: o.Annotations()}
		switch {
		case namespaced && o.Namespace == "":
			meta.Namespace = "default" // the namespace Argo CD or Flux applies it to; not a defect
		case namespaced:
			meta.Namespace = o.Namespace
		} // a cluster-scoped kind: the API server ignores a namespace Kustomize may have set
		errs := apivalidation.ValidateObjectMeta(&meta, namespaced, nameFn, field.NewPath("metadata"))
		if len(errs) > 0 {
			out = append(out, c.findingAt(ix, o, metaField(errs), "%s", errs.ToAggregate().Error()))
		}
	}
	for _, w := range ix.Workloads("") {
		if errs := metavalidation.ValidateLabels(w.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")); len(errs) > 0 {
			out = append(out, c.findingAt(ix, w.Object, []string{"spec", "template", "metadata", "labels"}, "%s", errs.ToAggregate().Error()))
		}
	}
	return out
}

func init() {
	KubernetesNames.Target = kubernetesNames
}

// metaField returns the map-key path of the first field an ObjectMeta
// validation error names ("metadata.labels").
func metaField(errs field.ErrorList) []string {
	if len(errs) == 0 {
		return []string{"metadata"}
	}
	return index.FieldPath(errs[0].Field)
}
