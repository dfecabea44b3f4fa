package check

import (
	"encoding/json"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"

	"meshops.dev/meshops/validate/index"
)

// KubernetesSchema decodes built-in kinds strictly into k8s.io/api types.
var KubernetesSchema = &Check{
	Code:     "K8S001",
	Name:     "kubernetes-schema",
	Severity: Error,
	Summary:  "every built-in Kubernetes object decodes strictly into its k8s.io/api type: known apiVersion, no unknown or duplicate fields, right types",
	Rationale: "The API server rejects wrong types and, with strict field validation (kubectl and Argo CD's server-side apply), " +
		"unknown fields; with lenient validation it drops them silently, so a misspelt field (imagePullPolcy) just does nothing.",
}

// KubernetesNames checks names and labels with apimachinery's own rules.
var KubernetesNames = &Check{
	Code:      "K8S002",
	Name:      "kubernetes-names-labels",
	Severity:  Error,
	Summary:   "object names, namespaces, labels and annotations pass apimachinery's validation; pod template labels too",
	Rationale: "The API server rejects an object whose name is not a DNS subdomain (a DNS label for Namespaces and Services) or whose label keys or values are malformed.",
}

func init() {
	KubernetesSchema.Target = kubernetesSchema
	KubernetesNames.Target = kubernetesNames
}

// strictCodec decodes with the client-go scheme, refusing unknown and
// duplicate fields.
var strictCodec = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// builtin reports whether the client-go scheme knows the object's group.
func builtin(o *index.Object) bool {
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		if gv.Group == o.Group {
			return true
		}
	}
	return false
}

func kubernetesSchema(ix *index.Index, _ *Env) []Finding {
	c := KubernetesSchema
	var out []Finding
	for _, o := range ix.Objects {
		if !builtin(o) || o.Content == nil {
			continue
		}
		raw, err := json.Marshal(o.Content)
		if err != nil {
			continue
		}
		if _, _, err := strictCodec.Decode(raw, nil, nil); err != nil {
			msg := err.Error()
			if runtime.IsNotRegisteredError(err) {
				msg = "apiVersion " + o.Group + "/" + o.Version + " does not serve kind " + o.Kind
			}
			out = append(out, c.findingIn(ix, o, ix.FieldSource(o, messageField(msg)...), "%s", strings.TrimPrefix(msg, "strict decoding error: ")))
		}
	}
	return out
}

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
			out = append(out, c.finding(ix, o, "%s", errs.ToAggregate().Error()))
		}
	}
	for _, w := range ix.Workloads("") {
		if errs := metavalidation.ValidateLabels(w.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")); len(errs) > 0 {
			out = append(out, c.finding(ix, w.Object, "%s", errs.ToAggregate().Error()))
		}
	}
	return out
}
