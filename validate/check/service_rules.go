package check

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"meshops.dev/meshops/validate/index"
)

// ServiceRules checks what the API server's Service validation refuses
// beyond types and names: the rules of validateService and validateServicePort
// in k8s.io/kubernetes/pkg/apis/core/validation, rewritten with
// apimachinery's helpers. As there, defaults apply first: protocol TCP,
// targetPort the port, type ClusterIP, sessionAffinity None.
var ServiceRules = &Check{
	Code:     "K8S008",
	Name:     "service-rules",
	Severity: Error,
	Summary:  "Services pass the API server's Service rules: at least one port, named ports when there are several, DNS-label unique names, valid port numbers, targetPorts and protocols, no duplicate port, valid selector labels, known type and session affinity",
	Rationale: "The API server rejects such a Service at admission (Required value, Duplicate value, Unsupported value), failing the whole sync; " +
		"strict decoding into k8s.io/api (K8S001) accepts it, since every one of these is a well-typed value.",
}

func init() { ServiceRules.Target = serviceRules }

var (
	serviceTypes      = map[corev1.ServiceType]bool{corev1.ServiceTypeClusterIP: true, corev1.ServiceTypeNodePort: true, corev1.ServiceTypeLoadBalancer: true, corev1.ServiceTypeExternalName: true}
	sessionAffinities = map[corev1.ServiceAffinity]bool{corev1.ServiceAffinityClientIP: true, corev1.ServiceAffinityNone: true}
)

func serviceRules(ix *index.Index, _ *Env) []Finding {
	c := ServiceRules
	var out []Finding
	for _, o := range ix.Kind("Service") {
		if o.Group != "" || o.Version != "v1" || o.Content == nil {
			continue
		}
		raw, err := json.Marshal(o.Content)
		if err != nil {
			continue
		}
		var svc corev1.Service
		if json.Unmarshal(raw, &svc) != nil {
			continue // K8S001 reports what does not decode
		}
		if errs := serviceErrors(&svc.Spec); len(errs) > 0 {
			out = append(out, c.findingAt(ix, o, messageField(errs[0].Field), "%s", errs.ToAggregate().Error()))
		}
	}
	return out
}

func serviceErrors(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec")
	headless := spec.ClusterIP == corev1.ClusterIPNone || (len(spec.ClusterIPs) > 0 && spec.ClusterIPs[0] == corev1.ClusterIPNone)
	typ := spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	if len(spec.Ports) == 0 && !headless && typ != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(path.Child("ports"), ""))
	}
	names := map[string]bool{}
	type portKey struct {
		protocol corev1.Protocol
		port     int32
	}
	seen := map[portKey]bool{}
	for i, sp := range spec.Ports {
		p := path.Child("ports").Index(i)
		switch {
		case len(spec.Ports) > 1 && sp.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case sp.Name != "":
			for _, msg := range validation.IsDNS1123Label(sp.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), sp.Name, msg))
			}
			if names[sp.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), sp.Name))
			}
			names[sp.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(sp.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), sp.Port, msg))
		}
		protocol := sp.Protocol
		if protocol == "" {
			protocol = corev1.ProtocolTCP
		}
		if !portProtocols[protocol] {
			errs = append(errs, field.NotSupported(p.Child("protocol"), protocol, []string{"SCTP", "TCP", "UDP"}))
		}
		target := sp.TargetPort
		if target == intstr.FromInt32(0) || target == intstr.FromString("") {
			target = intstr.FromInt32(sp.Port) // SetDefaults_Service
		}
		errs = append(errs, portNumOrName(target, p.Child("targetPort"))...)
		if sp.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*sp.AppProtocol) {
				errs = append(errs, field.Invalid(p.Child("appProtocol"), *sp.AppProtocol, msg))
			}
		}
		if typ == corev1.ServiceTypeClusterIP && sp.NodePort != 0 {
			errs = append(errs, field.Forbidden(p.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
		}
		key := portKey{protocol, sp.Port}
		if seen[key] {
			errs = append(errs, field.Duplicate(p, fmt.Sprintf("{Protocol: %s, Port: %d}", protocol, sp.Port)))
		}
		seen[key] = true
	}
	if spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabels(spec.Selector, path.Child("selector"))...)
	}
	if spec.SessionAffinity != "" && !sessionAffinities[spec.SessionAffinity] {
		errs = append(errs, field.NotSupported(path.Child("sessionAffinity"), spec.SessionAffinity, []string{"ClientIP", "None"}))
	}
	if !serviceTypes[typ] {
		errs = append(errs, field.NotSupported(path.Child("type"), typ, []string{"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}))
	}
	return errs
}
