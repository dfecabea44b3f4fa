package check

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"meshops.dev/meshops/validate/index"
)

// WorkloadRules checks what the API server's apps validation refuses in a
// workload's own spec: ValidateDeploymentSpec, ValidateDeploymentStrategy,
// ValidateRollingUpdateDeployment and ValidatePodTemplateSpecForReplicaSet in
// k8s.io/kubernetes/pkg/apis/apps/validation, rewritten. Defaults apply
// first, as in the API server: strategy RollingUpdate with 25% / 25%.
// Selector against template labels is WL003.
var WorkloadRules = &Check{
	Code:     "K8S009",
	Name:     "workload-rules",
	Severity: Error,
	Summary:  "Deployments, StatefulSets, DaemonSets and ReplicaSets pass the API server's apps rules: non-negative replicas and durations, a known strategy with valid maxSurge / maxUnavailable, progressDeadlineSeconds above minReadySeconds, restartPolicy Always, no activeDeadlineSeconds",
	Rationale: "The API server rejects such a workload at admission (Unsupported value, Invalid value, Forbidden), failing the whole sync; " +
		"strict decoding into k8s.io/api (K8S001) accepts it, since every one of these is a well-typed value.",
}

func init() { WorkloadRules.Target = workloadRules }

// appsKinds are the apps/v1 kinds whose pods must restart Always.
var appsKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true}

func workloadRules(ix *index.Index, _ *Env) []Finding {
	c := WorkloadRules
	var out []Finding
	for _, w := range ix.Workloads("") {
		if w.Group != "apps" || !appsKinds[w.Kind] {
			continue
		}
		var errs field.ErrorList
		spec := field.NewPath("spec")
		tpl := spec.Child("template", "spec")
		if p := w.Template.Spec.RestartPolicy; p != "" && p != corev1.RestartPolicyAlways {
			errs = append(errs, field.NotSupported(tpl.Child("restartPolicy"), p, []string{string(corev1.RestartPolicyAlways)}))
		}
		if w.Template.Spec.ActiveDeadlineSeconds != nil {
			errs = append(errs, field.Forbidden(tpl.Child("activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
		}
		if w.Kind == "Deployment" {
			errs = append(errs, deploymentErrors(w.Object, spec)...)
		}
		if len(errs) > 0 {
			out = append(out, c.findingAt(ix, w.Object, messageField(errs[0].Field), "%s", errs.ToAggregate().Error()))
		}
	}
	return out
}

func deploymentErrors(o *index.Object, path *field.Path) field.ErrorList {
	raw, err := json.Marshal(o.Content)
	if err != nil {
		return nil
	}
	var d appsv1.Deployment
	if json.Unmarshal(raw, &d) != nil {
		return nil // K8S001 reports what does not decode
	}
	var errs field.ErrorList
	s := d.Spec
	if s.Replicas != nil {
		errs = append(errs, nonNegative(int64(*s.Replicas), path.Child("replicas"))...)
	}
	strategy := path.Child("strategy")
	switch s.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(strategy.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType, "":
		ru := appsv1.RollingUpdateDeployment{}
		if s.Strategy.RollingUpdate != nil {
			ru = *s.Strategy.RollingUpdate
		}
		quarter := intstr.FromString("25%")
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = &quarter
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = &quarter
		}
		p := strategy.Child("rollingUpdate")
		errs = append(errs, intOrPercent(*ru.MaxUnavailable, p.Child("maxUnavailable"))...)
		errs = append(errs, intOrPercent(*ru.MaxSurge, p.Child("maxSurge"))...)
		if intOrPercentValue(*ru.MaxUnavailable) == 0 && intOrPercentValue(*ru.MaxSurge) == 0 {
			errs = append(errs, field.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
		}
		if v, pct := percent(*ru.MaxUnavailable); pct && v > 100 {
			errs = append(errs, field.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable.String(), "must not be greater than 100%"))
		}
	default:
		errs = append(errs, field.NotSupported(strategy.Child("type"), s.Strategy.Type, []string{"Recreate", "RollingUpdate"}))
	}
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), path.Child("minReadySeconds"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	if s.ProgressDeadlineSeconds != nil {
		errs = append(errs, nonNegative(int64(*s.ProgressDeadlineSeconds), path.Child("progressDeadlineSeconds"))...)
		if *s.ProgressDeadlineSeconds <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(path.Child("progressDeadlineSeconds"), *s.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// nonNegative is ValidateNonnegativeField.
func nonNegative(v int64, path *field.Path) field.ErrorList {
	if v < 0 {
		return field.ErrorList{field.Invalid(path, v, "must be greater than or equal to 0")}
	}
	return nil
}

var percentRE = regexp.MustCompile(`^[0-9]+%$`)

// intOrPercent is ValidatePositiveIntOrPercent.
func intOrPercent(v intstr.IntOrString, path *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		if !percentRE.MatchString(v.StrVal) {
			return field.ErrorList{field.Invalid(path, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")}
		}
	case intstr.Int:
		return nonNegative(int64(v.IntValue()), path)
	}
	return nil
}

func percent(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || !strings.HasSuffix(v.StrVal, "%") {
		return 0, false
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n, true
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percent(v); ok {
		return n
	}
	return v.IntValue()
}
