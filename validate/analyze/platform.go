package analyze

import (
	"encoding/json"
	"fmt"
	"os"

	yaml "go.yaml.in/yaml/v3"
	"istio.io/istio/pkg/config/analysis/local"

	"meshops.dev/meshops/validate/mesh"
)

// ProxyImage is the sidecar image the injector adds to a pod, as the
// injector's ConfigMap (istio-sidecar-injector, values global.hub,
// global.proxy.image, global.tag) the platform gives the analyzers says: the
// proxy-image analyzer (IST0105) compares the two, and they agree by
// construction, as they do in a cluster that runs one Istio release.
const ProxyImage = proxyHub + "/" + proxyName + ":" + proxyTag

const (
	proxyHub  = "docker.io/istio"
	proxyName = "proxyv2"
	proxyTag  = mesh.Version + ".0"
)

// platformSources are the objects a cluster provides outside the repository
// that the analyzers read: Istio's namespace, each ingress gateway's
// Deployment, Service and a running pod, the injector's ConfigMap per
// revision, and the mesh ConfigMap.
func platformSources(p *mesh.Platform, istioNS string) []source {
	var out []source
	add := func(kind, ns, name string, obj map[string]any) {
		data, err := marshal(obj)
		if err != nil {
			return
		}
		out = append(out, source{name: "platform:" + kind + "/" + ns + "/" + name, yaml: data, key: kind + "|" + ns + "|" + name})
	}
	meta := func(ns, name string, labels map[string]string) map[string]any {
		m := map[string]any{"name": name}
		if ns != "" {
			m["namespace"] = ns
		}
		if len(labels) > 0 {
			m["labels"] = labels
		}
		return m
	}
	namespaces := map[string]bool{istioNS: true}
	for _, g := range p.IngressGateways {
		namespaces[g.Namespace] = true
	}
	for ns := range namespaces {
		add("Namespace", "", ns, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta("", ns, map[string]string{"kubernetes.io/metadata.name": ns})})
	}
	for _, g := range p.IngressGateways {
		var sports, cports []map[string]any
		for _, pt := range g.Ports {
			sports = append(sports, map[string]any{"name": pt.Name, "port": pt.Port, "targetPort": pt.TargetPort, "protocol": "TCP"})
			cports = append(cports, map[string]any{"name": pt.Name, "containerPort": pt.TargetPort, "protocol": "TCP"})
		}
		podSpec := map[string]any{"containers": []map[string]any{{"name": "istio-proxy", "image": ProxyImage, "ports": cports}}}
		add("Deployment", g.Namespace, g.Name, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(g.Namespace, g.Name, g.Labels),
			"spec": map[string]any{"selector": map[string]any{"matchLabels": g.Labels},
				"template": map[string]any{"metadata": map[string]any{"labels": g.Labels}, "spec": podSpec}}})
		add("Service", g.Namespace, g.Name, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": meta(g.Namespace, g.Name, g.Labels),
			"spec": map[string]any{"type": "LoadBalancer", "selector": g.Labels, "ports": sports}})
		add("Pod", g.Namespace, g.Name+"-pod", map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta(g.Namespace, g.Name+"-pod", g.Labels), "spec": podSpec})
	}
	values, _ := json.Marshal(map[string]any{
		"global":                 map[string]any{"hub": proxyHub, "tag": proxyTag, "proxy": map[string]any{"image": proxyName}},
		"sidecarInjectorWebhook": map[string]any{"enableNamespacesByDefault": false},
	})
	for _, rev := range p.Revisions {
		name := "istio-sidecar-injector"
		if rev != "default" && rev != "" {
			name += "-" + rev
		}
		add("ConfigMap", istioNS, name, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(istioNS, name, nil),
			"data": map[string]any{"values": string(values)}})
	}
	add("ConfigMap", istioNS, "istio", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(istioNS, "istio", nil),
		"data": map[string]any{"mesh": p.MeshYAML}})
	return out
}

// marshal writes obj as one YAML document, through JSON so that typed
// values (a PodSpec) take their Kubernetes field names.
func marshal(obj any) (string, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return "", err
	}
	data, err := yaml.Marshal(generic)
	return string(data), err
}

// addMeshConfig gives the analyzers the platform's meshConfig. The pinned
// IstiodAnalyzer reads a mesh config only from a file
// (AddFileKubeMeshConfig, which applies it over Istio's defaults as istiod
// does), so it is written to a temporary file, read, and removed.
func (a *Analyzer) addMeshConfig(sa *local.IstiodAnalyzer) error {
	f, err := os.CreateTemp("", "meshops-meshconfig-*.yaml")
	if err != nil {
		return fmt.Errorf("istio's analyzers: mesh config: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(a.platform.MeshYAML); err != nil {
		f.Close()
		return fmt.Errorf("istio's analyzers: mesh config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("istio's analyzers: mesh config: %w", err)
	}
	if err := sa.AddFileKubeMeshConfig(f.Name()); err != nil {
		return fmt.Errorf("%s: meshConfig: %w", a.platform.File, err)
	}
	return nil
}
