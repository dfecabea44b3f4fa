package mesh

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/util/protomarshal"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
)

// Release is one Helm release of Istio's charts as the repository declares
// it (a Flux HelmRelease, an Argo CD Helm source) with the objects it
// renders to. Objects are decoded JSON objects, as Helm's rendered YAML
// decodes (sigs.k8s.io/yaml), one per Kubernetes object.
type Release struct {
	// Name names the release in messages: "HelmRelease istio-ingress/istio-ingressgateway".
	Name string
	// File and Line locate the HelmRelease or Application: the line a
	// finding about what the release installs names.
	File string
	Line int
	// Namespace is the release's namespace, where Helm installs a namespaced
	// object its chart renders without one (helm-controller: targetNamespace,
	// else the HelmRelease's namespace; Argo CD: spec.destination.namespace).
	Namespace string
	// Objects are the release's rendered objects.
	Objects []map[string]any
}

func (r Release) where() string { return fmt.Sprintf("%s (%s:%d)", r.Name, r.File, r.Line) }

// InjectionWebhook is one webhook of a sidecar injector
// MutatingWebhookConfiguration that istiod's chart installs
// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml,
// and revision-tags-mwc.yaml for revision tags): the API server sends a pod
// to istiod's injector when its namespace matches NamespaceSelector and the
// pod matches ObjectSelector.
type InjectionWebhook struct {
	// Name is the webhook's name ("rev.namespace.sidecar-injector.istio.io").
	Name string
	// Configuration is the MutatingWebhookConfiguration's name.
	Configuration string
	// Revision is the istiod revision (or revision tag) it injects for, from
	// the configuration's istio.io/rev (istio.io/tag) label.
	Revision          string
	NamespaceSelector *metav1.LabelSelector
	ObjectSelector    *metav1.LabelSelector
}

func (w InjectionWebhook) String() string {
	return fmt.Sprintf("%s (revision %s; namespaces %s; pods %s)", w.Name, w.Revision,
		metav1.FormatLabelSelector(w.NamespaceSelector), metav1.FormatLabelSelector(w.ObjectSelector))
}

// Disagreement is a setting that platform.yaml declares and the repository's
// Istio releases render differently: the repository wins, and the
// disagreement is a finding at platform.yaml's line.
type Disagreement struct {
	// What names the setting: "istio.revisions", "ingressGateways[0] (istio-ingress/istio-ingressgateway) labels",
	// "meshConfig.rootNamespace".
	What string
	// File and Line locate the setting in platform.yaml.
	File string
	Line int
	// Declared is platform.yaml's value, Rendered the repository's.
	Declared, Rendered string
	// Release names the release that renders it, with its file and line.
	Release string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s:%d: %s: %s declares %s, but %s installs %s", d.File, d.Line, d.What, d.File, d.Declared, d.Release, d.Rendered)
}

// sidecarInjectorSuffix ends the name of every webhook of istiod's injector.
const sidecarInjectorSuffix = "sidecar-injector.istio.io"

// DerivePlatform builds the platform the repository installs from the
// objects its Istio releases render, over declared (platform.yaml, or the
// default profile when nil):
//   - ingress gateways: each Deployment that Istio injects as a gateway (a
//     container istio-proxy with image "auto", as the gateway chart renders
//     it), with its namespace, its pods' labels (what a Gateway's selector
//     matches) and the ports of the Service that selects those pods;
//   - injection: the webhooks of every sidecar injector
//     MutatingWebhookConfiguration, and the revisions (and revision tags)
//     they inject for;
//   - MeshConfig: the mesh key of istiod's ConfigMap (istio, or
//     istio-<revision> when only revisioned istiods are installed), Istio's
//     defaults applied; its rootNamespace is the one the chart renders
//     (meshConfig.rootNamespace, else global.istioNamespace).
//
// What the releases render wins. The default profile's gateway is dropped as
// soon as the releases install a gateway; a repository that installs istiod
// and no gateway keeps the declared ones (the ingress comes from outside it),
// and a gateway platform.yaml declares that the releases do not install
// stays (it comes from outside the repository). Where
// platform.yaml and a release both speak and disagree, a Disagreement names
// platform.yaml's line.
func DerivePlatform(releases []Release, declared *Platform) (*Platform, []Disagreement) {
	if declared == nil {
		declared = DefaultPlatform()
	}
	out := *declared
	out.IngressGateways = slices.Clone(declared.IngressGateways)
	var dis []Disagreement

	var gateways []IngressGateway
	var gatewayFrom []string
	var webhooks []InjectionWebhook
	var webhookFrom string
	type meshCM struct {
		revision, data string
		from           Release
	}
	var meshes []meshCM
	installs := false
	for _, r := range releases {
		var deployments []appsv1.Deployment
		var services []corev1.Service
		for _, obj := range r.Objects {
			kind, _ := obj["kind"].(string)
			apiVersion, _ := obj["apiVersion"].(string)
			switch {
			case kind == "Deployment" && apiVersion == "apps/v1":
				var d appsv1.Deployment
				if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &d) == nil {
					deployments = append(deployments, d)
				}
			case kind == "Service" && apiVersion == "v1":
				var s corev1.Service
				if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &s) == nil {
					services = append(services, s)
				}
			case kind == "MutatingWebhookConfiguration" && apiVersion == "admissionregistration.k8s.io/v1":
				var m admissionv1.MutatingWebhookConfiguration
				if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &m) != nil {
					continue
				}
				rev := m.Labels[revKey]
				if tag := m.Labels["istio.io/tag"]; tag != "" {
					rev = tag
				}
				for _, w := range m.Webhooks {
					if !strings.HasSuffix(w.Name, sidecarInjectorSuffix) {
						continue
					}
					installs = true
					webhookFrom = r.where()
					webhooks = append(webhooks, InjectionWebhook{Name: w.Name, Configuration: m.Name, Revision: rev,
						NamespaceSelector: w.NamespaceSelector, ObjectSelector: w.ObjectSelector})
				}
			case kind == "ConfigMap" && apiVersion == "v1":
				var cm corev1.ConfigMap
				if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &cm) != nil {
					continue
				}
				data, ok := cm.Data["mesh"]
				if !ok || (cm.Name != "istio" && !strings.HasPrefix(cm.Name, "istio-")) {
					continue
				}
				installs = true
				meshes = append(meshes, meshCM{revision: strings.TrimPrefix(strings.TrimPrefix(cm.Name, "istio"), "-"), data: data, from: r})
			}
		}
		for _, d := range deployments {
			if !injectedGateway(d.Spec.Template.Spec) {
				continue
			}
			installs = true
			ns := orNamespace(d.Namespace, r.Namespace)
			g := IngressGateway{Name: d.Name, Namespace: ns, Labels: d.Spec.Template.Labels, File: r.File, Line: r.Line,
				Annotations: d.Spec.Template.Annotations, HostNetwork: d.Spec.Template.Spec.HostNetwork}
			for _, s := range services {
				if orNamespace(s.Namespace, r.Namespace) != ns || len(s.Spec.Selector) == 0 || !subset(s.Spec.Selector, g.Labels) {
					continue
				}
				for _, p := range s.Spec.Ports {
					target := p.TargetPort.IntVal
					if p.TargetPort.StrVal != "" {
						target = namedPort(d.Spec.Template.Spec, p.TargetPort.StrVal)
					}
					if target == 0 {
						target = p.Port
					}
					g.Ports = append(g.Ports, GatewayPort{Name: p.Name, Port: p.Port, TargetPort: target, Protocol: string(p.Protocol)})
				}
			}
			gateways = append(gateways, g)
			gatewayFrom = append(gatewayFrom, r.where())
		}
	}
	if !installs {
		return &out, nil
	}

	// Gateways: the repository's, then platform.yaml's that it does not
	// install. A repository that installs istiod but no gateway gets its
	// ingress from outside: the declared gateways (platform.yaml's, else the
	// default profile's) stay.
	kept := gateways
	if len(gateways) == 0 {
		kept = slices.Clone(declared.IngressGateways)
	} else if declared.File != "" && declared.lines.gateways != nil {
		for i, g := range declared.IngressGateways {
			j := slices.IndexFunc(gateways, func(d IngressGateway) bool { return d.Name == g.Name && d.Namespace == g.Namespace })
			if j < 0 {
				kept = append(kept, g)
				continue
			}
			d := gateways[j]
			line := declared.lines.gateways[i]
			if !reflect.DeepEqual(g.Labels, d.Labels) {
				dis = append(dis, Disagreement{What: fmt.Sprintf("ingressGateways[%d] (%s) labels", i, g), File: declared.File, Line: line,
					Declared: "{" + formatLabels(g.Labels) + "}", Rendered: "{" + formatLabels(d.Labels) + "}", Release: gatewayFrom[j]})
			}
			if !samePorts(g.Ports, d.Ports) {
				dis = append(dis, Disagreement{What: fmt.Sprintf("ingressGateways[%d] (%s) ports", i, g), File: declared.File, Line: line,
					Declared: formatPorts(g.Ports), Rendered: formatPorts(d.Ports), Release: gatewayFrom[j]})
			}
		}
	}
	out.IngressGateways = kept

	if len(webhooks) > 0 {
		var revs []string
		for _, w := range webhooks {
			if w.Revision != "" && !slices.Contains(revs, w.Revision) {
				revs = append(revs, w.Revision)
			}
		}
		sort.Strings(revs)
		if declared.File != "" && declared.lines.revisions > 0 {
			want := slices.Clone(declared.Revisions)
			sort.Strings(want)
			if !slices.Equal(want, revs) {
				dis = append(dis, Disagreement{What: "istio.revisions", File: declared.File, Line: declared.lines.revisions,
					Declared: "[" + strings.Join(want, ", ") + "]", Rendered: "[" + strings.Join(revs, ", ") + "]", Release: webhookFrom})
			}
		}
		out.Revisions, out.Webhooks = revs, webhooks
	}

	if len(meshes) > 0 {
		// The default revision's ConfigMap (istio) is the mesh config of a
		// cluster that has one; else the first revision's.
		sort.SliceStable(meshes, func(i, j int) bool { return meshes[i].revision == "" && meshes[j].revision != "" })
		m, err := mesh.ApplyMeshConfigDefaults(meshes[0].data)
		if err == nil {
			dis = append(dis, meshDisagreements(declared, m, meshes[0].from.where())...)
			out.Mesh, out.MeshYAML = m, meshes[0].data
		}
	}
	return &out, dis
}

// orNamespace is an object's namespace, else the release's, else default.
func orNamespace(ns, release string) string {
	switch {
	case ns != "":
		return ns
	case release != "":
		return release
	}
	return "default"
}

// injectedGateway reports whether a pod template is an Istio gateway that
// the injector fills in: the gateway chart's container istio-proxy with
// image "auto" (manifests/charts/gateway/templates/deployment.yaml).
func injectedGateway(spec corev1.PodSpec) bool {
	for _, c := range spec.Containers {
		if c.Name == "istio-proxy" && c.Image == "auto" {
			return true
		}
	}
	return false
}

func namedPort(spec corev1.PodSpec, name string) int32 {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
	}
	return 0
}

func samePorts(a, b []GatewayPort) bool {
	key := func(ps []GatewayPort) []string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%d:%d", p.Port, p.TargetPort))
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func formatPorts(ps []GatewayPort) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %d->%d", p.Name, p.Port, p.TargetPort))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func formatLabels(m map[string]string) string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, k+": "+m[k])
	}
	return strings.Join(out, ", ")
}

// meshDisagreements compares each top-level setting of platform.yaml's
// meshConfig with the rendered MeshConfig's.
func meshDisagreements(declared *Platform, rendered *meshconfig.MeshConfig, from string) []Disagreement {
	if declared.File == "" || declared.MeshYAML == "" {
		return nil
	}
	var want map[string]any
	if err := yaml.Unmarshal([]byte(declared.MeshYAML), &want); err != nil {
		return nil
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		return nil
	}
	// Both through MeshConfig's JSON form, so that 1s and "1s", or a
	// camelCase and a snake_case key, compare equal.
	dm := &meshconfig.MeshConfig{}
	if protomarshal.UnmarshalAllowUnknown(wantJSON, dm) != nil {
		return nil
	}
	dj, err1 := protomarshal.ToJSONMap(dm)
	rj, err2 := protomarshal.ToJSONMap(rendered)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []Disagreement
	for _, k := range sortedKeysAny(dj) {
		if reflect.DeepEqual(dj[k], rj[k]) {
			continue
		}
		d, _ := json.Marshal(dj[k])
		r, _ := json.Marshal(rj[k])
		if rj[k] == nil {
			r = []byte("nothing")
		}
		out = append(out, Disagreement{What: "meshConfig." + k, File: declared.File, Line: declared.lines.mesh[k],
			Declared: string(d), Rendered: string(r), Release: from})
	}
	return out
}

func sortedKeysAny(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
