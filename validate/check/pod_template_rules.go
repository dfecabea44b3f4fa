package check

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"meshops.dev/meshops/validate/index"
)

// PodTemplateRules checks what the API server's pod validation refuses in a
// pod template beyond types and names: the rules of
// k8s.io/kubernetes/pkg/apis/core/validation (validateContainers,
// validateContainerCommon, validateContainerPorts, ValidateEnv,
// ValidateVolumeMounts, validatePullPolicy, validateProbe), which the
// validator cannot import (k8s.io/kubernetes is not a library), rewritten
// with apimachinery's own validation helpers. The API server validates after
// defaulting, so a field it defaults (protocol, imagePullPolicy) is only
// checked when set.
var PodTemplateRules = &Check{
	Code:     "K8S007",
	Name:     "pod-template-rules",
	Severity: Error,
	Summary:  "pod templates pass the API server's container rules: unique DNS-label container names, an image, valid and unique port names and numbers, known pull policy and protocol, env names, volume mounts of declared volumes, one handler per probe",
	Rationale: "The API server rejects such a workload at admission (Unsupported value, Duplicate value, Required value), failing the whole sync; " +
		"strict decoding into k8s.io/api (K8S001) accepts it, since every one of these is a well-typed value.",
}

func init() { PodTemplateRules.Target = podTemplateRules }

var (
	portProtocols = map[corev1.Protocol]bool{corev1.ProtocolTCP: true, corev1.ProtocolUDP: true, corev1.ProtocolSCTP: true}
	pullPolicies  = map[corev1.PullPolicy]bool{corev1.PullAlways: true, corev1.PullIfNotPresent: true, corev1.PullNever: true}
)

func podTemplateRules(ix *index.Index, _ *Env) []Finding {
	c := PodTemplateRules
	var out []Finding
	for _, w := range ix.Workloads("") {
		path := field.NewPath("spec", "template", "spec")
		switch w.Kind {
		case "Pod":
			path = field.NewPath("spec")
		case "CronJob":
			path = field.NewPath("spec", "jobTemplate", "spec", "template", "spec")
		}
		if errs := podSpecErrors(&w.Template.Spec, path); len(errs) > 0 {
			out = append(out, c.findingAt(ix, w.Object, messageField(errs[0].Field), "%s", errs.ToAggregate().Error()))
		}
	}
	return out
}

// podSpecErrors applies validateContainers' rules to the regular and init
// containers, and ValidateVolumes' name rules.
func podSpecErrors(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes := map[string]bool{}
	for i, v := range spec.Volumes {
		p := path.Child("volumes").Index(i).Child("name")
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(p, ""))
		case volumes[v.Name]:
			errs = append(errs, field.Duplicate(p, v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(p, v.Name, msg))
			}
		}
		volumes[v.Name] = true
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	names := map[string]bool{}
	for _, list := range []struct {
		name       string
		containers []corev1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i := range list.containers {
			ctr := &list.containers[i]
			p := path.Child(list.name).Index(i)
			errs = append(errs, containerErrors(ctr, volumes, p)...)
			if ctr.Name != "" && names[ctr.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), ctr.Name))
			}
			names[ctr.Name] = true
		}
	}
	return errs
}

// containerErrors is validateContainerCommon's share the validator can
// check offline, plus the probes' handler rule.
func containerErrors(ctr *corev1.Container, volumes map[string]bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ctr.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	} else {
		for _, msg := range validation.IsDNS1123Label(ctr.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), ctr.Name, msg))
		}
	}
	if ctr.Image == "" {
		errs = append(errs, field.Required(path.Child("image"), ""))
	}
	portNames := map[string]bool{}
	for i, port := range ctr.Ports {
		p := path.Child("ports").Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
				for _, msg := range msgs {
					errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
				}
			} else if portNames[port.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(p.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(p.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(p.Child("hostPort"), port.HostPort, msg))
			}
		}
		if port.Protocol != "" && !portProtocols[port.Protocol] {
			errs = append(errs, field.NotSupported(p.Child("protocol"), port.Protocol, []string{"SCTP", "TCP", "UDP"}))
		}
	}
	for i, ev := range ctr.Env {
		p := path.Child("env").Index(i).Child("name")
		if ev.Name == "" {
			errs = append(errs, field.Required(p, ""))
		}
		// RelaxedEnvironmentVariableValidation is on by default (GA in 1.34).
		for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
			if ev.Name != "" {
				errs = append(errs, field.Invalid(p, ev.Name, msg))
			}
		}
	}
	mountPaths := map[string]bool{}
	for i, vm := range ctr.VolumeMounts {
		p := path.Child("volumeMounts").Index(i)
		switch {
		case vm.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case !volumes[vm.Name]:
			errs = append(errs, field.NotFound(p.Child("name"), vm.Name))
		}
		if vm.MountPath == "" {
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		} else if mountPaths[vm.MountPath] {
			errs = append(errs, field.Invalid(p.Child("mountPath"), vm.MountPath, "must be unique"))
		}
		mountPaths[vm.MountPath] = true
	}
	if ctr.ImagePullPolicy != "" && !pullPolicies[ctr.ImagePullPolicy] {
		errs = append(errs, field.NotSupported(path.Child("imagePullPolicy"), ctr.ImagePullPolicy, []string{"Always", "IfNotPresent", "Never"}))
	}
	for _, probe := range []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", ctr.LivenessProbe}, {"readinessProbe", ctr.ReadinessProbe}, {"startupProbe", ctr.StartupProbe}} {
		if probe.probe != nil {
			errs = append(errs, probeErrors(probe.probe, path.Child(probe.name))...)
		}
	}
	return errs
}

// probeErrors is validateHandler's rule (exactly one handler) and its port
// checks, and validateProbe's non-negative durations.
func probeErrors(probe *corev1.Probe, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	handlers := 0
	if probe.Exec != nil {
		handlers++
	}
	if h := probe.HTTPGet; h != nil {
		handlers++
		errs = append(errs, portNumOrName(h.Port, path.Child("httpGet", "port"))...)
	}
	if t := probe.TCPSocket; t != nil {
		handlers++
		errs = append(errs, portNumOrName(t.Port, path.Child("tcpSocket", "port"))...)
	}
	if g := probe.GRPC; g != nil {
		handlers++
		for _, msg := range validation.IsValidPortNum(int(g.Port)) {
			errs = append(errs, field.Invalid(path.Child("grpc", "port"), g.Port, msg))
		}
	}
	switch {
	case handlers == 0:
		errs = append(errs, field.Required(path, "must specify a handler type"))
	case handlers > 1:
		errs = append(errs, field.Forbidden(path, "may not specify more than 1 handler type"))
	}
	for _, d := range []struct {
		name  string
		value int32
	}{{"initialDelaySeconds", probe.InitialDelaySeconds}, {"timeoutSeconds", probe.TimeoutSeconds}, {"periodSeconds", probe.PeriodSeconds}, {"successThreshold", probe.SuccessThreshold}, {"failureThreshold", probe.FailureThreshold}} {
		if d.value < 0 {
			errs = append(errs, field.Invalid(path.Child(d.name), d.value, "must be greater than or equal to 0"))
		}
	}
	return errs
}

// portNumOrName is ValidatePortNumOrName.
func portNumOrName(port intstr.IntOrString, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch port.Type {
	case intstr.Int:
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(path, port.IntValue(), msg))
		}
	case intstr.String:
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(path, port.StrVal, msg))
		}
	default:
		errs = append(errs, field.InternalError(path, fmt.Errorf("unknown type: %v", port.Type)))
	}
	return errs
}
