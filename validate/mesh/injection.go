package mesh

import (
	"fmt"
	"slices"
	"strings"

	"istio.io/istio/pkg/kube/inject"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	injectKey    = "sidecar.istio.io/inject" // label (webhook objectSelector) and annotation (opt-out only)
	revKey       = "istio.io/rev"
	legacyNSKey  = "istio-injection"
	dataplaneKey = "istio.io/dataplane-mode"
)

// Injection is whether a workload's pods get an Envoy sidecar, and why.
type Injection struct {
	Sidecar bool
	// Why explains the decision in one sentence.
	Why string
	// Fix says what to change when there is no sidecar; "" otherwise.
	Fix string
	// OnNamespace is true when the namespace (not the pod template) decides.
	OnNamespace bool
	// AnnotationOnly is true when only the sidecar.istio.io/inject annotation
	// asks for a sidecar: the webhook never sees such a pod.
	AnnotationOnly bool
}

// Inject decides sidecar injection the way Istio's installation does: first
// the MutatingWebhookConfiguration istiod's chart installs per revision
// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml:
// rev.namespace, rev.object, and for the default revision namespace. and
// object.), whose namespaceSelector and objectSelector read labels only; then,
// for a pod the webhook receives, the injector's injectRequired policy
// (pkg/kube/inject/inject.go): hostNetwork and Kubernetes' system namespaces
// are skipped, and the pod's sidecar.istio.io/inject label, else its
// annotation, may opt out. nsLabels is nil when the namespace is not rendered.
func Inject(revisions []string, namespace string, nsLabels map[string]string, podLabels, podAnnotations map[string]string, hostNetwork bool) Injection {
	hasDefault := slices.Contains(revisions, "default")
	nsLegacy, nsHasLegacy := nsLabels[legacyNSKey]
	nsRev, nsHasRev := nsLabels[revKey]
	podInject, podHasInject := podLabels[injectKey]
	podRev, podHasRev := podLabels[revKey]
	optOut := podHasInject && podInject == "false"

	webhook := ""
	switch {
	case nsHasRev && !nsHasLegacy && slices.Contains(revisions, nsRev) && !optOut:
		webhook = fmt.Sprintf("namespace %s has %s=%s", namespace, revKey, nsRev)
	case !nsHasRev && !nsHasLegacy && podHasRev && slices.Contains(revisions, podRev) && !optOut:
		webhook = fmt.Sprintf("its pod template has the label %s=%s", revKey, podRev)
	case hasDefault && nsLegacy == "enabled" && !optOut:
		webhook = fmt.Sprintf("namespace %s has %s=enabled", namespace, legacyNSKey)
	case hasDefault && !nsHasLegacy && !nsHasRev && podInject == "true" && !podHasRev:
		webhook = fmt.Sprintf("its pod template has the label %s: \"true\"", injectKey)
	}
	if webhook == "" {
		return noWebhook(revisions, namespace, nsLabels, podLabels, podAnnotations)
	}
	return injectorPolicy(webhook, namespace, podLabels, podAnnotations, hostNetwork)
}

// injectorPolicy is the injector's own policy for a pod a webhook sent it
// (pkg/kube/inject/inject.go, injectRequired): hostNetwork and Kubernetes'
// system namespaces are skipped, and the pod's sidecar.istio.io/inject
// label, else its annotation, may opt out.
func injectorPolicy(webhook, namespace string, podLabels, podAnnotations map[string]string, hostNetwork bool) Injection {
	if hostNetwork {
		return Injection{Why: "its pods use hostNetwork, which the injector never injects", Fix: "drop hostNetwork from the pod template"}
	}
	if inject.IgnoredNamespaces.Contains(namespace) {
		return Injection{Why: "namespace " + namespace + " is a Kubernetes system namespace, which the injector skips", Fix: "run the workload in another namespace", OnNamespace: true}
	}
	value, from := podAnnotations[injectKey], "annotation"
	if v, ok := podLabels[injectKey]; ok {
		value, from = v, "label" // the injector prefers the label
	}
	if value == "false" {
		return Injection{Why: fmt.Sprintf("%s, but its pod template's %s %s: \"false\" opts out", webhook, injectKey, from),
			Fix: fmt.Sprintf("remove the %s %s from the pod template", injectKey, from)}
	}
	return Injection{Sidecar: true, Why: webhook}
}

// Inject decides sidecar injection on this platform: by the injector
// webhooks the repository installs (Webhooks, derived from istiod's
// release), matched with the API server's label selector semantics, else
// (no istiod in the repository) by the webhooks istiod's chart installs for
// Revisions (the function Inject).
func (p *Platform) Inject(namespace string, nsLabels, podLabels, podAnnotations map[string]string, hostNetwork bool) Injection {
	if len(p.Webhooks) == 0 {
		return Inject(p.Revisions, namespace, nsLabels, podLabels, podAnnotations, hostNetwork)
	}
	// The API server labels every namespace with its name.
	ns := labels.Set{"kubernetes.io/metadata.name": namespace}
	for k, v := range nsLabels {
		ns[k] = v
	}
	pod := labels.Set(podLabels)
	for _, w := range p.Webhooks {
		if selects(w.NamespaceSelector, ns) && selects(w.ObjectSelector, pod) {
			return injectorPolicy(fmt.Sprintf("the injection webhook %s of istiod revision %s selects it (namespace %s {%s}, pod labels {%s})",
				w.Name, w.Revision, namespace, formatLabels(nsLabels), formatLabels(podLabels)), namespace, podLabels, podAnnotations, hostNetwork)
		}
	}
	var installed []string
	for _, w := range p.Webhooks {
		installed = append(installed, w.String())
	}
	why := fmt.Sprintf("no injection webhook the repository installs selects it (namespace %s {%s}, pod labels {%s}); installed: %s",
		namespace, formatLabels(nsLabels), formatLabels(podLabels), strings.Join(installed, "; "))
	if nsLabels == nil {
		why = "namespace " + namespace + " is not rendered here, so it has no labels: " + why
	}
	switch {
	case podLabels[injectKey] == "false":
		return Injection{Why: fmt.Sprintf("its pod template has the label %s: \"false\"", injectKey), Fix: "remove that label from the pod template"}
	case podAnnotations[injectKey] == "true" && podLabels[injectKey] == "":
		return Injection{AnnotationOnly: true,
			Why: why + fmt.Sprintf("; the pod template asks for a sidecar with the annotation %s: \"true\", which no webhook selects on (an objectSelector reads labels; the annotation can only opt out)", injectKey),
			Fix: fmt.Sprintf("label the namespace %s=%s, or make %s a label of the pod template where a webhook selects it", revKey, p.firstRevision(), injectKey)}
	}
	return Injection{Why: why, Fix: fmt.Sprintf("label the namespace %s=%s (an installed revision), or match another of those selectors", revKey, p.firstRevision()), OnNamespace: true}
}

// firstRevision names an installed revision for a fix.
func (p *Platform) firstRevision() string {
	if len(p.Revisions) == 0 {
		return "default"
	}
	return p.Revisions[0]
}

func selects(sel *metav1.LabelSelector, set labels.Set) bool {
	if sel == nil {
		return true // no selector: every object
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(set)
}

func noWebhook(revisions []string, namespace string, nsLabels, podLabels, podAnnotations map[string]string) Injection {
	nsLegacy, nsHasLegacy := nsLabels[legacyNSKey]
	nsRev, nsHasRev := nsLabels[revKey]
	podInject := podLabels[injectKey]
	podRev, podHasRev := podLabels[revKey]
	switch {
	case podInject == "false":
		return Injection{Why: fmt.Sprintf("its pod template has the label %s: \"false\"", injectKey), Fix: "remove that label from the pod template"}
	case nsHasLegacy && nsLegacy != "enabled":
		return Injection{Why: fmt.Sprintf("namespace %s has %s=%s", namespace, legacyNSKey, nsLegacy), Fix: "set " + legacyNSKey + ": enabled on the namespace", OnNamespace: true}
	case nsHasRev && !nsHasLegacy && !contains(revisions, nsRev):
		return Injection{Why: fmt.Sprintf("namespace %s has %s=%s, a revision the clusters do not run (platform revisions: %v)", namespace, revKey, nsRev, revisions),
			Fix: "label the namespace with an installed revision, or add it to istio.revisions in " + PlatformFile, OnNamespace: true}
	case podHasRev && !contains(revisions, podRev):
		return Injection{Why: fmt.Sprintf("its pod template has %s=%s, a revision the clusters do not run (platform revisions: %v)", revKey, podRev, revisions),
			Fix: "use an installed revision, or add it to istio.revisions in " + PlatformFile}
	case podAnnotations[injectKey] == "true" && podInject == "":
		where := "namespace " + namespace + " has no " + legacyNSKey + " or " + revKey + " label"
		if nsLabels == nil {
			where = "namespace " + namespace + " is not rendered here, so it has no injection label"
		}
		return Injection{AnnotationOnly: true,
			Why: fmt.Sprintf("%s, and its pod template asks for a sidecar with the annotation %s: \"true\", which Istio's webhook does not select on (its objectSelector reads the label; the annotation can only opt out)", where, injectKey),
			Fix: fmt.Sprintf("make %s: \"true\" a label of the pod template (spec.template.metadata.labels), or label the namespace %s: enabled", injectKey, legacyNSKey)}
	case nsLabels[dataplaneKey] == "ambient":
		return Injection{Why: fmt.Sprintf("namespace %s is in ambient mode (%s=ambient): its pods run no sidecar, and a WasmPlugin selector reaches only sidecars and gateways", namespace, dataplaneKey),
			Fix: "attach the plugin to a waypoint with targetRefs, or enable sidecar injection", OnNamespace: true}
	case nsLabels == nil:
		return Injection{Why: "namespace " + namespace + " is not rendered here, so nothing enables injection",
			Fix: fmt.Sprintf("deploy the namespace with %s: enabled, or set the label %s: \"true\" on the pod template", legacyNSKey, injectKey), OnNamespace: true}
	default:
		return Injection{Why: fmt.Sprintf("namespace %s has neither %s=enabled nor an %s label, and the pod template no %s label", namespace, legacyNSKey, revKey, injectKey),
			Fix: "add " + legacyNSKey + ": enabled to the namespace's labels", OnNamespace: true}
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
