package check

// Admission returns the checks that stand for the Kubernetes API server's
// own rules: what it refuses when an engine applies the object, before any
// controller or webhook sees it. validate/apiserver's TestOracle holds them
// to a real kube-apiserver's verdict, object by object.
func Admission() []*Check {
	return []*Check{
		IstioSchema,          // IS001: Istio's CRDs (schema, CEL, unknown fields)
		KubernetesSchema,     // K8S001: strict decoding into k8s.io/api
		KubernetesNames,      // K8S002: names, namespaces, labels, annotations
		RequestsWithinLimits, // K8S003: pod validation of requests and limits
		PodTemplateRules,     // K8S007: pod validation of containers, ports, env, mounts, probes
		ServiceRules,         // K8S008: Service validation
		WorkloadRules,        // K8S009: apps validation of Deployments and other workloads
		GitOpsSchema,         // GO002: Flux's and Argo CD's CRDs
		DeploymentSelector,   // WL003: apps validation of selector against template labels
		MetadataFields,       // K8S006: strict decoding of metadata (an unknown field there)
		DataSize,             // K8S004: ConfigMap and Secret data over 1 MiB
		ObjectSize,           // K8S005: etcd's 1.5 MiB, the request body's 3 MiB
	}
}
