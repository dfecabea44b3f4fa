package mesh

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	httpwasm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	networkwasm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/wasm/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	extensionsv1alpha1 "istio.io/api/extensions/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubefake "k8s.io/client-go/kubernetes/fake"
	gatewayapifake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/test"

	"meshops.dev/meshops/validate/index"
)

// Answer is istiod's answer for one target.
type Answer struct {
	Target string `json:"target"`
	// Workloads is every workload, sorted by kind, namespace and name.
	Workloads []*Workload `json:"workloads"`
	// Gateways are the declared ingress gateways, with where each host goes.
	Gateways []*Gateway `json:"gateways"`
	// Plugins is every WasmPlugin, by "namespace/name".
	Plugins map[string]*Plugin `json:"-"`
	// KubeGateways are the Gateway API Gateways istiod deploys a gateway
	// for; their gateways are among Gateways, named by the Deployment.
	KubeGateways []KubeGateway `json:"-"`
	// RouteStatuses is the status istiod's gateway controller computes for
	// every HTTPRoute and GRPCRoute, in render order.
	RouteStatuses []*RouteStatus `json:"-"`
}

// Workload is one workload and what istiod gives its pods.
type Workload struct {
	Ref       string    `json:"workload"` // "Deployment blog/blog"
	Kind      string    `json:"kind"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Source    string    `json:"file"`
	Injection Injection `json:"-"`
	Sidecar   bool      `json:"sidecar"`
	Why       string    `json:"why"`
	// Chains are the HTTP filter chains of its inbound listener, one per port.
	Chains []Chain `json:"chains,omitempty"`
	// TCPPorts are the pod ports whose inbound filter chains istiod builds
	// without an HTTP connection manager (a Service port named tcp-*, or
	// appProtocol tcp): requests to them never pass the HTTP filters above.
	TCPPorts []int `json:"tcpPorts,omitempty"`
	object   *index.Object
}

// Object is the rendered object of the workload.
func (w *Workload) Object() *index.Object { return w.object }

// Chain is one listener filter chain's filters, in Envoy's order.
type Chain struct {
	Listener string `json:"listener"`
	Name     string `json:"filterChain"`
	// HTTP is true for an HTTP connection manager chain; then Filters are its
	// HTTP filters, else the network filters.
	HTTP    bool     `json:"http"`
	Filters []Filter `json:"filters"`
}

// Filter is one filter of a chain.
type Filter struct {
	Name string `json:"name"`
	// Wasm is set for a WasmPlugin's filter: its configuration as pushed.
	Wasm *WasmFilter `json:"wasm,omitempty"`
}

// WasmFilter is the envoy.extensions.filters.{http,network}.wasm.v3.Wasm
// configuration istiod pushes over ECDS for one WasmPlugin.
type WasmFilter struct {
	Plugin       string `json:"plugin"` // "namespace/name"
	Type         string `json:"type"`   // HTTP or NETWORK
	Phase        string `json:"phase"`
	Priority     *int32 `json:"priority,omitempty"`
	URL          string `json:"url"`
	SHA256       string `json:"sha256,omitempty"`
	FailStrategy string `json:"failStrategy"` // the pushed failure policy
	VMID         string `json:"vmID,omitempty"`
	RootID       string `json:"rootID,omitempty"`
	PluginConfig string `json:"pluginConfig"` // the configuration string the plugin reads
}

// Plugin is where one WasmPlugin's filter landed.
type Plugin struct {
	Key    string
	Object *index.Object
	// Attached are the workloads (and gateways, "gateway ns/name") whose
	// listeners carry its filter, sorted.
	Attached []string
	// Network is true when it landed only in network (TCP) filter chains.
	Network bool
}

// Gateway is one declared ingress gateway and the requests simulated through it.
type Gateway struct {
	Name    string    `json:"gateway"`
	Chains  []Chain   `json:"chains,omitempty"`
	Routes  []*Route  `json:"routes"`
	Servers []*Server `json:"-"`
	// Kube is the Gateway API Gateway the gateway was deployed for, if any.
	Kube *KubeGateway `json:"-"`
	// Clusters are the clusters istiod pushes to the gateway, by name.
	Clusters map[string]bool `json:"-"`
}

// Server is a networking.istio.io Gateway server that selects the gateway.
type Server struct {
	Gateway *index.Object
	Port    int
	Hosts   []string
}

// Route is where one request to a host goes at an ingress gateway.
type Route struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Path     string `json:"path"`
	Listener string `json:"listener,omitempty"`
	// VirtualHost, Route and Cluster are what Envoy matches; Error is set
	// when the request matches no listener, virtual host or route.
	VirtualHost string `json:"virtualHost,omitempty"`
	Route       string `json:"route,omitempty"`
	Cluster     string `json:"cluster,omitempty"`
	// ClusterMissing is true when the route names a cluster istiod does not
	// push (a subset no DestinationRule defines, say): Envoy answers 503.
	ClusterMissing bool     `json:"clusterMissing,omitempty"`
	Subset         string   `json:"subset,omitempty"`
	Endpoints      []string `json:"endpoints,omitempty"` // the workloads behind the cluster
	Error          string   `json:"error,omitempty"`
	// VirtualService is the one that declares the simulated path, if any.
	VirtualService *index.Object `json:"-"`
	// HTTPRoute is the Gateway API route that declares it, if any.
	HTTPRoute *index.Object `json:"-"`
	// From is the VirtualService ("namespace/name") whose route Envoy
	// matched, read from the route's istio metadata.
	From string `json:"routeFrom,omitempty"`
}

// ClusterDomain is the clusters' DNS domain, istiod's default domain suffix
// (constants.DefaultClusterLocalDomain); platform.yaml does not change it.
const ClusterDomain = constants.DefaultClusterLocalDomain

// Analyzer runs pilot on targets. It is safe for concurrent use.
type Analyzer struct {
	Platform *Platform
}

var quiet sync.Once

// SilenceIstioLog turns Istio's logging off for the whole process: pilot
// logs to stdout at info level, and Istio's mesh config reader warns there
// (pkg/config/mesh: "warnings occurred during mesh validation"); the
// validator's output must be only its report. What Istio would log that
// matters is a finding instead (IST0001 for a deprecated meshConfig setting).
func SilenceIstioLog() {
	quiet.Do(func() {
		o := log.DefaultOptions()
		o.OutputPaths = []string{os.DevNull}
		o.ErrorOutputPaths = []string{os.DevNull}
		for _, s := range log.Scopes() {
			o.SetDefaultOutputLevel(s.Name(), log.NoneLevel)
		}
		o.SetDefaultOutputLevel(log.OverrideScopeName, log.NoneLevel)
		_ = log.Configure(o)
	})
}

// InternalError is pilot failing on a target: a bug or an input it cannot
// handle, reported as a finding, never a crash.
type InternalError struct{ Msg string }

func (e *InternalError) Error() string { return e.Msg }

// Relevant reports whether istiod has anything to say about the target: it
// renders an Istio resource or a workload.
func Relevant(ix *index.Index) bool {
	if len(ix.Workloads("")) > 0 {
		return true
	}
	for _, o := range ix.Objects {
		if strings.HasSuffix(o.Group, "istio.io") || o.Group == index.GatewayAPIGroup {
			return true
		}
	}
	return false
}

// Analyze asks istiod about one target.
func (a *Analyzer) Analyze(ix *index.Index) (ans *Answer, err error) {
	SilenceIstioLog()
	in := a.inputs(ix)
	RunIstio(func() {
		err = test.Wrap(func(t test.Failer) {
			defer func() {
				if r := recover(); r != nil {
					err = &InternalError{Msg: fmt.Sprintf("istiod's code panicked: %v", r)}
				}
			}()
			ans = a.run(t, ix, in)
		})
	})
	if err != nil {
		if _, ok := err.(*InternalError); !ok {
			err = &InternalError{Msg: "istiod's code failed: " + oneLine(err.Error())}
		}
		return nil, err
	}
	return ans, nil
}

type pod struct {
	w   *Workload
	pod *corev1.Pod
	ip  string
	// decl is the ingress gateway the pod runs, for a gateway's pod; kube
	// the Gateway API Gateway it was deployed for.
	decl *IngressGateway
	kube *KubeGateway
}

type inputs struct {
	configs   []config.Config
	objects   []kruntime.Object
	pods      []pod
	gateways  []pod // one per declared ingress gateway, then one per KubeGateway
	workloads []*Workload
	kube      []KubeGateway
	routes    bool // the target renders an HTTPRoute or a GRPCRoute
}

// creation is the creation time every config gets, so that istiod's
// oldest-first orderings fall back to namespace and name: deterministic.
var creation = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// proxy is the proxy of p's pod as istiod sees it connect. SetupProxy does
// not copy the pod's labels, so they are set here.
func (p pod) proxy(t model.NodeType) *model.Proxy {
	return &model.Proxy{
		Type:            t,
		ID:              p.pod.Name + "." + p.pod.Namespace,
		ConfigNamespace: p.pod.Namespace,
		IPAddresses:     []string{p.ip},
		Labels:          p.pod.Labels,
		Metadata:        &model.NodeMetadata{Namespace: p.pod.Namespace, Labels: p.pod.Labels, IstioVersion: Version + ".0", ClusterID: "Kubernetes"},
		IstioVersion:    model.ParseIstioVersion(Version + ".0"),
	}
}

func (a *Analyzer) inputs(ix *index.Index) *inputs {
	in := &inputs{}
	for _, o := range ix.Objects {
		if !strings.HasSuffix(o.Group, "istio.io") || o.Content == nil {
			continue
		}
		c, ok := istioConfig(o)
		if !ok {
			continue // IS001 and IS002 report what Istio cannot read
		}
		if c.Namespace == "" {
			c.Namespace = "default"
		}
		c.CreationTimestamp = creation
		in.configs = append(in.configs, *c)
	}

	namespaces := map[string]map[string]string{}
	for _, o := range ix.Kind("Namespace") {
		namespaces[o.Name] = o.Labels()
	}
	ensureNS := func(ns string) {
		if _, ok := namespaces[ns]; !ok {
			namespaces[ns] = nil
		}
	}

	n := 0
	nextIP := func() string {
		n++
		return netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}).String()
	}
	for _, w := range ix.Workloads("") {
		ns := w.Namespace
		if ns == "" {
			ns = "default"
		}
		nsLabels, rendered := namespaces[ns]
		if !rendered {
			nsLabels = nil
		}
		inj := a.Platform.Inject(ns, nsLabels, w.Template.Labels, w.Template.Annotations, w.Template.Spec.HostNetwork)
		wl := &Workload{Ref: w.String(), Kind: w.Kind, Namespace: ns, Name: w.Name, Source: w.Source,
			Injection: inj, Sidecar: inj.Sidecar, Why: inj.Why, object: w.Object}
		in.workloads = append(in.workloads, wl)
		ensureNS(ns)
		labels := map[string]string{}
		for k, v := range w.Template.Labels {
			labels[k] = v
		}
		if inj.Sidecar {
			// What the injector adds to the pod's labels.
			labels["security.istio.io/tlsMode"] = "istio"
			if _, ok := labels["service.istio.io/canonical-name"]; !ok {
				labels["service.istio.io/canonical-name"] = canonicalName(labels, w.Name)
			}
		}
		ip := nextIP()
		p := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: podName(w.Name), Namespace: ns, Labels: labels, Annotations: w.Template.Annotations},
			Spec:       *w.Template.Spec.DeepCopy(),
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
		p.Spec.NodeName = "node"
		in.pods = append(in.pods, pod{w: wl, pod: p, ip: ip})
	}

	var services []*corev1.Service
	for _, o := range ix.Kind("Service") {
		var svc corev1.Service
		if o.Content == nil || kruntime.DefaultUnstructuredConverter.FromUnstructured(o.Content, &svc) != nil {
			continue
		}
		if svc.Namespace == "" {
			svc.Namespace = "default"
		}
		ensureNS(svc.Namespace)
		if svc.Spec.ClusterIP == "" && svc.Spec.Type != corev1.ServiceTypeExternalName {
			svc.Spec.ClusterIP = netip.AddrFrom4([4]byte{172, 20, byte(len(services) >> 8), byte(len(services) + 1)}).String()
		}
		services = append(services, &svc)
	}

	for i := range a.Platform.IngressGateways {
		g := a.Platform.IngressGateways[i]
		ensureNS(g.Namespace)
		ip := nextIP()
		labels := map[string]string{}
		for k, v := range g.Labels {
			labels[k] = v
		}
		var ports []corev1.ServicePort
		var cports []corev1.ContainerPort
		for _, p := range g.Ports {
			ports = append(ports, corev1.ServicePort{Name: p.Name, Port: p.Port, TargetPort: intstr.FromInt32(p.TargetPort), Protocol: corev1.ProtocolTCP})
			cports = append(cports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.TargetPort, Protocol: corev1.ProtocolTCP})
		}
		services = append(services, &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace, Labels: labels},
			Spec: corev1.ServiceSpec{Selector: g.Labels, Ports: ports, Type: corev1.ServiceTypeLoadBalancer,
				ClusterIP: netip.AddrFrom4([4]byte{172, 21, 0, byte(i + 1)}).String()},
		})
		p := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: podName(g.Name), Namespace: g.Namespace, Labels: labels},
			Spec:       corev1.PodSpec{NodeName: "node", Containers: []corev1.Container{{Name: "istio-proxy", Image: "istio/proxyv2", Ports: cports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
		in.gateways = append(in.gateways, pod{pod: p, ip: ip, w: &Workload{Ref: "gateway " + g.String(), Namespace: g.Namespace, Name: g.Name}, decl: &a.Platform.IngressGateways[i]})
	}

	// The Gateway API: istiod's gateway controller reads the objects from
	// the API server, and its deployment controller runs a gateway for each
	// Gateway of a class it manages.
	for _, o := range gatewayAPIObjects(ix) {
		if m, ok := o.(interface{ GetNamespace() string }); ok && m.GetNamespace() != "" {
			ensureNS(m.GetNamespace())
		}
		in.objects = append(in.objects, o)
	}
	in.routes = len(ix.HTTPRoutes())+len(ix.GRPCRoutes()) > 0
	in.kube = kubeGateways(ix)
	kubeSvcs, kubePods := kubeGatewayPods(in.kube, nextIP)
	services = append(services, kubeSvcs...)
	for i := range kubePods {
		kubePods[i].kube = &in.kube[i]
		kubePods[i].decl = &in.kube[i].Deployment
		ensureNS(kubePods[i].pod.Namespace)
	}
	in.gateways = append(in.gateways, kubePods...)

	nsNames := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		nsNames = append(nsNames, ns)
	}
	sort.Strings(nsNames)
	for _, ns := range nsNames {
		labels := map[string]string{"kubernetes.io/metadata.name": ns}
		for k, v := range namespaces[ns] {
			labels[k] = v
		}
		in.objects = append(in.objects, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}})
	}
	all := append(append([]pod{}, in.pods...), in.gateways...)
	for _, p := range all {
		in.objects = append(in.objects, p.pod)
	}
	for _, svc := range services {
		in.objects = append(in.objects, svc)
		if slice := endpointSlice(svc, all); slice != nil {
			in.objects = append(in.objects, slice)
		}
	}
	return in
}

// istioConfig converts an Istio object as crd.ParseInputs (the reader behind
// FakeOptions.ConfigString) does each document of its YAML stream: decode
// into crd.IstioKind, find the kind among Istio's and the Gateway API's
// collections, ConvertObject, ValidateConfig. ConvertObject takes the
// cluster's domain, which istiod's Kubernetes config client passes
// (crdclient: options.DomainSuffix, cluster.local by default): with ""
// a short host ("reviews") would become "reviews.default" instead of
// "reviews.default.svc.cluster.local", and miss its Service, its
// DestinationRule and its subsets. It starts from the object's
// JSON, not YAML: the same decoder (sigs.k8s.io/yaml turns YAML into this
// JSON), at a fraction of the cost.
func istioConfig(o *index.Object) (*config.Config, bool) {
	raw, err := json.Marshal(o.Content)
	if err != nil {
		return nil, false
	}
	var kind crd.IstioKind
	if err := json.Unmarshal(raw, &kind); err != nil {
		return nil, false
	}
	gvk := kind.GroupVersionKind()
	s, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk))
	if !ok {
		return nil, false
	}
	c, err := crd.ConvertObject(s, &kind, ClusterDomain)
	if err != nil {
		return nil, false
	}
	if _, err := s.ValidateConfig(*c); err != nil {
		return nil, false
	}
	return c, true
}

// endpointSlice is what Kubernetes' EndpointSlice controller writes for a
// Service with a selector: every Running pod of its namespace the selector
// matches, with each Service port's targetPort resolved against the pod's
// container ports (a named targetPort no container declares gets no port).
func endpointSlice(svc *corev1.Service, pods []pod) *discoveryv1.EndpointSlice {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	slice := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-slice", Namespace: svc.Namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	ready := true
	portSet := map[string]bool{}
	for _, p := range pods {
		if p.pod.Namespace != svc.Namespace || !subset(svc.Spec.Selector, p.pod.Labels) {
			continue
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: p.pod.Name, Namespace: p.pod.Namespace},
		})
		for _, sp := range svc.Spec.Ports {
			num := resolvePort(sp.TargetPort, sp.Port, p.pod)
			if num == 0 || portSet[sp.Name] {
				continue
			}
			portSet[sp.Name] = true
			name, proto := sp.Name, sp.Protocol
			slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: &name, Port: &num, Protocol: &proto, AppProtocol: sp.AppProtocol})
		}
	}
	return slice
}

func resolvePort(target intstr.IntOrString, port int32, p *corev1.Pod) int32 {
	switch {
	case target.Type == intstr.String && target.StrVal != "":
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == target.StrVal {
					return cp.ContainerPort
				}
			}
		}
		return 0
	case target.IntVal != 0:
		return target.IntVal
	default:
		return port
	}
}

func podName(workload string) string { return workload + "-0" }

// canonicalName is the injector's default for service.istio.io/canonical-name.
func canonicalName(labels map[string]string, name string) string {
	for _, k := range []string{"app.kubernetes.io/name", "app"} {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return name
}

// fakeClient is kubelib.NewFakeClient with the objects put in through the
// tracker's Add, not its Create. Istio's constructor calls Create on client-go's
// field-managed tracker, which builds a REST mapper of the whole scheme for
// every object (client-go testing/fixture.go, managedFieldObjectTracker.Create):
// most of a target's set-up time. Add files each object under the resource
// meta.UnsafeGuessKindToResource names, which is right for the core and
// discovery kinds given here (Namespace, Pod, Service, EndpointSlice) and
// for the Gateway API kinds (gateways, httproutes, grpcroutes,
// gatewayclasses, referencegrants), which go to the client's Gateway API
// clientset; Istio kinds go to the config store, not to this client.
func fakeClient(objects ...kruntime.Object) kubelib.Client {
	c := kubelib.NewFakeClient()
	tracker := c.Kube().(*kubefake.Clientset).Tracker()
	gwTracker := c.GatewayAPI().(*gatewayapifake.Clientset).Tracker()
	for _, o := range objects {
		var err error
		if gvr, ok := gatewayAPIResource(o); ok {
			// The Gateway API's clientset, whose informers istiod's gateway
			// controller runs, under the resource its CRD names (Add would
			// guess "gatewaies").
			err = gwTracker.Create(gvr, o.DeepCopyObject(), o.(metav1.Object).GetNamespace())
		} else {
			err = tracker.Add(o.DeepCopyObject())
		}
		if err != nil {
			panic(fmt.Sprintf("fake Kubernetes client: add %T: %v", o, err))
		}
	}
	return c
}

func (a *Analyzer) run(t test.Failer, ix *index.Index, in *inputs) *Answer {
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		Configs:           in.configs,
		KubernetesObjects: in.objects,
		KubeClientBuilder: fakeClient,
		MeshConfig:        a.Platform.Mesh,
	})
	var gwapi *gatewayAPIState
	if in.routes || len(in.kube) > 0 {
		st, err := settleGatewayAPI(s, t, ix, in.kube)
		if err != nil {
			t.Fatal(err)
		}
		gwapi = st
	}
	push := s.PushContext()
	ans := &Answer{Target: ix.Target.Dir, Plugins: map[string]*Plugin{}}
	for _, o := range ix.Kind("WasmPlugin") {
		key := o.Namespace + "/" + o.Name
		ans.Plugins[key] = &Plugin{Key: key, Object: o}
	}
	attach := func(who string, chains []Chain) {
		seen := map[string]bool{}
		for _, c := range chains {
			for _, f := range c.Filters {
				if f.Wasm == nil || seen[f.Wasm.Plugin] {
					continue
				}
				seen[f.Wasm.Plugin] = true
				if p := ans.Plugins[f.Wasm.Plugin]; p != nil {
					p.Attached = append(p.Attached, who)
				}
			}
		}
	}
	network := map[string]bool{}
	for _, p := range in.pods {
		ans.Workloads = append(ans.Workloads, p.w)
		if !p.w.Sidecar {
			continue
		}
		proxy := s.SetupProxy(p.proxy(model.SidecarProxy))
		listeners := s.Listeners(proxy)
		p.w.Chains = chains(s, proxy, push, listeners, true, network)
		p.w.TCPPorts = tcpInboundPorts(listeners)
		attach(p.w.Ref, allChains(s, proxy, push, listeners, network))
	}
	for _, g := range in.gateways {
		decl := *g.decl
		proxy := s.SetupProxy(g.proxy(model.Router))
		listeners := s.Listeners(proxy)
		gw := &Gateway{Name: decl.String(), Kube: g.kube, Clusters: map[string]bool{}}
		for _, c := range s.Clusters(proxy) {
			gw.Clusters[c.Name] = true
		}
		gw.Chains = chains(s, proxy, push, listeners, false, network)
		attach(g.w.Ref, gw.Chains)
		var reqs []request
		if g.kube != nil {
			reqs = kubeRequests(ix, g.kube)
		} else {
			gw.Servers = a.servers(ix, decl)
			reqs = istioRequests(ix, gw.Servers)
		}
		gw.Routes = a.simulate(s, proxy, push, decl, reqs, gw.Clusters, in)
		ans.Gateways = append(ans.Gateways, gw)
	}
	ans.KubeGateways = in.kube
	if gwapi != nil {
		ans.RouteStatuses = gwapi.statuses()
	}
	for k, p := range ans.Plugins {
		sort.Strings(p.Attached)
		p.Network = network[k]
	}
	return ans
}

// chains returns the filter chains of the proxy's listeners that carry HTTP:
// for a sidecar the inbound ones (virtualInbound, per port), for a gateway
// every one. network records plugins seen in network filter chains.
func chains(s *xds.FakeDiscoveryServer, proxy *model.Proxy, push *model.PushContext, ls []*listener.Listener, inboundOnly bool, network map[string]bool) []Chain {
	var out []Chain
	for _, l := range ls {
		if inboundOnly && l.Name != "virtualInbound" {
			continue
		}
		for _, fc := range l.FilterChains {
			c := chainOf(s, proxy, push, l.Name, fc, network)
			if c == nil || (inboundOnly && !c.HTTP) || (inboundOnly && strings.Contains(fc.Name, "passthrough")) {
				continue
			}
			out = append(out, *c)
		}
	}
	return dedupe(out)
}

// tcpInboundPorts returns the destination ports of the virtualInbound
// listener's filter chains that carry no HTTP connection manager: istiod
// builds them for a port whose Service declares TCP
// (pilot/pkg/networking/core/listener_inbound.go, buildInboundFilterChain
// picks the TCP proxy for a non-HTTP protocol), so Envoy runs no HTTP filter
// on a request to them. The passthrough and catch-all chains have no port.
func tcpInboundPorts(ls []*listener.Listener) []int {
	http := map[uint32]bool{}
	tcp := map[uint32]bool{}
	for _, l := range ls {
		if l.Name != "virtualInbound" {
			continue
		}
		for _, fc := range l.FilterChains {
			port := fc.GetFilterChainMatch().GetDestinationPort().GetValue()
			if port == 0 || strings.Contains(fc.Name, "passthrough") {
				continue
			}
			isHTTP := false
			for _, nf := range fc.Filters {
				if nf.Name == "envoy.filters.network.http_connection_manager" {
					isHTTP = true
				}
			}
			if isHTTP {
				http[port] = true
			} else {
				tcp[port] = true
			}
		}
	}
	var out []int
	for p := range tcp {
		if !http[p] {
			out = append(out, int(p))
		}
	}
	sort.Ints(out)
	return out
}

// allChains returns every filter chain of every listener, for attachment.
func allChains(s *xds.FakeDiscoveryServer, proxy *model.Proxy, push *model.PushContext, ls []*listener.Listener, network map[string]bool) []Chain {
	var out []Chain
	for _, l := range ls {
		for _, fc := range l.FilterChains {
			if c := chainOf(s, proxy, push, l.Name, fc, network); c != nil {
				out = append(out, *c)
			}
		}
	}
	return out
}

// dedupe drops chains whose filter lists repeat an earlier one's (the
// inbound listener has a chain per port and TLS mode, with equal filters).
func dedupe(in []Chain) []Chain {
	var out []Chain
	seen := map[string]bool{}
	for _, c := range in {
		var names []string
		for _, f := range c.Filters {
			names = append(names, f.Name)
		}
		key := c.Listener + "|" + strings.Join(names, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out
}

func chainOf(s *xds.FakeDiscoveryServer, proxy *model.Proxy, push *model.PushContext, lname string, fc *listener.FilterChain, network map[string]bool) *Chain {
	c := &Chain{Listener: lname, Name: fc.Name}
	for _, nf := range fc.Filters {
		if nf.Name == "envoy.filters.network.http_connection_manager" {
			h := &hcm.HttpConnectionManager{}
			if nf.GetTypedConfig() == nil || nf.GetTypedConfig().UnmarshalTo(h) != nil {
				continue
			}
			c.HTTP = true
			c.Filters = nil
			for _, hf := range h.HttpFilters {
				c.Filters = append(c.Filters, filterOf(s, proxy, push, hf.Name, nil))
			}
			return c
		}
		c.Filters = append(c.Filters, filterOf(s, proxy, push, nf.Name, network))
	}
	return c
}

// filterOf describes one filter; for a WasmPlugin's it asks istiod's ECDS
// generator for the configuration it pushes.
func filterOf(s *xds.FakeDiscoveryServer, proxy *model.Proxy, push *model.PushContext, name string, network map[string]bool) Filter {
	f := Filter{Name: name}
	if !strings.HasPrefix(name, model.TrafficExtensionResourceNamePrefix) {
		return f
	}
	// istiod translates each WasmPlugin into a TrafficExtension named
	// <name>~istio-translated-wasmplugin (pilot/pkg/config/kube/extensions/translate.go).
	ns, teName, _ := strings.Cut(strings.TrimPrefix(name, model.TrafficExtensionResourceNamePrefix), ".")
	key := ns + "/" + strings.TrimSuffix(teName, translatedSuffix)
	if network != nil {
		network[key] = true
	}
	f.Wasm = &WasmFilter{Plugin: key}
	for _, w := range push.TrafficExtensionsByName(proxy, []types.NamespacedName{{Namespace: ns, Name: teName}}) {
		// The TrafficExtension phases are numbered as the WasmPlugin's; print the WasmPlugin's names.
		f.Wasm.Phase = extensionsv1alpha1.PluginPhase(w.GetPhase()).String()
		if p := w.GetPriority(); p != nil {
			v := p.GetValue()
			f.Wasm.Priority = &v
		}
	}
	for _, ext := range s.ConfigGen.BuildExtensionConfiguration(proxy, push, []string{name}, nil) {
		var cfg *wasmv3.PluginConfig
		hw, nw := &httpwasm.Wasm{}, &networkwasm.Wasm{}
		switch {
		case ext.GetTypedConfig().MessageIs(hw):
			if ext.GetTypedConfig().UnmarshalTo(hw) == nil {
				cfg, f.Wasm.Type = hw.GetConfig(), "HTTP"
			}
		case ext.GetTypedConfig().MessageIs(nw):
			if ext.GetTypedConfig().UnmarshalTo(nw) == nil {
				cfg, f.Wasm.Type = nw.GetConfig(), "NETWORK"
			}
		}
		if cfg == nil {
			continue
		}
		f.Wasm.VMID, f.Wasm.RootID = cfg.GetVmConfig().GetVmId(), cfg.GetRootId()
		if remote := cfg.GetVmConfig().GetCode().GetRemote(); remote != nil {
			f.Wasm.URL, f.Wasm.SHA256 = remote.GetHttpUri().GetUri(), remote.GetSha256()
		} else if local := cfg.GetVmConfig().GetCode().GetLocal(); local != nil {
			f.Wasm.URL = "file://" + local.GetFilename()
		}
		f.Wasm.FailStrategy = failStrategy(cfg)
		var sv wrapperspb.StringValue
		if cfg.GetConfiguration() != nil && cfg.GetConfiguration().UnmarshalTo(&sv) == nil {
			f.Wasm.PluginConfig = sv.GetValue()
		}
	}
	return f
}

// translatedSuffix marks a TrafficExtension istiod made from a WasmPlugin.
const translatedSuffix = "~istio-translated-wasmplugin"

// failStrategy names the failure policy istiod pushed: FAIL_OPEN when Envoy
// lets requests through a failed plugin, FAIL_CLOSE when it rejects them.
func failStrategy(cfg *wasmv3.PluginConfig) string {
	if cfg.GetFailOpen() {
		return "FAIL_OPEN"
	}
	switch cfg.GetFailurePolicy() {
	case wasmv3.FailurePolicy_FAIL_OPEN:
		return "FAIL_OPEN"
	case wasmv3.FailurePolicy_FAIL_RELOAD:
		return "FAIL_RELOAD"
	default:
		return "FAIL_CLOSE"
	}
}

// servers returns the Gateway servers whose selector selects the declared
// ingress gateway (Istio: selector labels a subset of the gateway pod's).
func (a *Analyzer) servers(ix *index.Index, g IngressGateway) []*Server {
	var out []*Server
	for _, o := range ix.Kind("Gateway") {
		if o.Group != "networking.istio.io" {
			continue
		}
		sel := stringMap(o.Spec()["selector"])
		if !subset(sel, g.Labels) {
			continue
		}
		list, _ := o.Spec()["servers"].([]any)
		for _, raw := range list {
			srv, _ := raw.(map[string]any)
			port, _ := srv["port"].(map[string]any)
			num := toInt(port["number"])
			var hosts []string
			hl, _ := srv["hosts"].([]any)
			for _, h := range hl {
				if hs, ok := h.(string); ok {
					hosts = append(hosts, hs)
				}
			}
			proto, _ := port["protocol"].(string)
			if p := strings.ToUpper(proto); p != "HTTP" && p != "HTTP2" && p != "GRPC" {
				continue // TLS and TCP servers are not simulated
			}
			out = append(out, &Server{Gateway: o, Port: num, Hosts: hosts})
		}
	}
	return out
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

type request struct {
	host, path string
	port       int
	vs         *index.Object
	route      *index.Object // the HTTPRoute, for a Gateway API gateway
}

// istioRequests returns one request per Gateway host and per path a bound
// VirtualService declares.
func istioRequests(ix *index.Index, servers []*Server) []request {
	var reqs []request
	seen, routed := map[string]bool{}, map[string]bool{}
	add := func(r request) {
		if r.vs != nil {
			routed[r.host] = true
		}
		key := fmt.Sprintf("%s|%d|%s", r.host, r.port, r.path)
		if seen[key] {
			return
		}
		seen[key] = true
		reqs = append(reqs, r)
	}
	for _, srv := range servers {
		for _, vs := range ix.Kind("VirtualService") {
			if !bindsTo(vs, srv.Gateway) {
				continue
			}
			hosts, _ := vs.Spec()["hosts"].([]any)
			for _, h := range hosts {
				hs, _ := h.(string)
				if hs == "" || strings.Contains(hs, "*") || !served(srv.Hosts, hs, vs.Namespace, srv.Gateway.Namespace) {
					continue
				}
				for _, p := range paths(vs) {
					add(request{host: hs, port: srv.Port, path: p, vs: vs})
				}
			}
		}
		for _, h := range srv.Hosts {
			if _, host, ok := strings.Cut(h, "/"); ok {
				h = host
			}
			if !strings.Contains(h, "*") && !routed[h] {
				add(request{host: h, port: srv.Port, path: "/"}) // a host no VirtualService routes
			}
		}
	}
	return reqs
}

// simulate sends each request through the gateway's listeners with pilot's
// simulation package, and resolves each cluster's endpoints with pilot's
// EDS builder; clusters are the ones istiod pushes to the gateway.
func (a *Analyzer) simulate(s *xds.FakeDiscoveryServer, proxy *model.Proxy, push *model.PushContext, g IngressGateway, reqs []request, clusters map[string]bool, in *inputs) []*Route {
	sim := simulation.NewSimulationFromConfigGen(nil, s.ConfigGenTest, proxy)
	byIP := map[string]string{}
	for _, p := range in.pods {
		byIP[p.ip] = p.w.Ref
	}
	var out []*Route
	for _, r := range reqs {
		target := int32(r.port)
		for _, p := range g.Ports {
			if int(p.Port) == r.port {
				target = p.TargetPort
			}
		}
		res := sim.Run(simulation.Call{Port: int(target), HostHeader: r.host, Path: r.path, Protocol: simulation.HTTP, CallMode: simulation.CallModeGateway})
		rt := &Route{Host: r.host, Port: r.port, Path: r.path, Listener: res.ListenerMatched, VirtualHost: res.VirtualHostMatched,
			Route: res.RouteMatched, Cluster: res.ClusterMatched, VirtualService: r.vs, HTTPRoute: r.route}
		if res.Error != nil {
			rt.Error = res.Error.Error()
		}
		rt.From = routeSource(sim, res)
		if rt.Cluster != "" {
			_, subsetName, _, _ := model.ParseSubsetKey(rt.Cluster)
			rt.Subset = subsetName
			if !clusters[rt.Cluster] {
				rt.ClusterMissing = true
			} else {
				eb := endpoints.NewEndpointBuilder(rt.Cluster, proxy, push)
				cla := eb.BuildClusterLoadAssignment(s.Env().EndpointIndex)
				set := map[string]bool{}
				for _, le := range cla.GetEndpoints() {
					for _, lb := range le.GetLbEndpoints() {
						addr := lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress()
						if who := byIP[addr]; who != "" {
							set[who] = true
						} else if addr != "" {
							set[addr] = true
						}
					}
				}
				for k := range set {
					rt.Endpoints = append(rt.Endpoints, k)
				}
				sort.Strings(rt.Endpoints)
			}
		}
		out = append(out, rt)
	}
	return out
}

// bindsTo reports whether a VirtualService's gateways name gw: "name" is a
// Gateway in the VirtualService's namespace, "namespace/name" any other.
func bindsTo(vs, gw *index.Object) bool {
	gws, _ := vs.Spec()["gateways"].([]any)
	for _, g := range gws {
		gs, _ := g.(string)
		ns, name, ok := strings.Cut(gs, "/")
		if !ok {
			ns, name = vs.Namespace, gs
		}
		if ns == gw.Namespace && name == gw.Name {
			return true
		}
	}
	return false
}

// served reports whether a Gateway server's hosts ([namespace/]host,
// wildcards) admit host for a VirtualService in vsNS.
func served(hosts []string, host, vsNS, gwNS string) bool {
	for _, h := range hosts {
		ns, name := "*", h
		if a, b, ok := strings.Cut(h, "/"); ok {
			ns, name = a, b
		}
		if ns == "." {
			ns = gwNS
		}
		if ns != "*" && ns != vsNS {
			continue
		}
		if name == "*" || name == host || (strings.HasPrefix(name, "*.") && strings.HasSuffix(host, name[1:])) {
			return true
		}
	}
	return false
}

// paths returns one request path per http route of a VirtualService: the
// exact or prefix path it matches, "/" for a route without a uri match;
// regex-only routes are not simulated.
func paths(vs *index.Object) []string {
	var out []string
	routes, _ := vs.Spec()["http"].([]any)
	for _, r := range routes {
		route, _ := r.(map[string]any)
		matches, _ := route["match"].([]any)
		if len(matches) == 0 {
			out = append(out, "/")
			continue
		}
		for _, m := range matches {
			mm, _ := m.(map[string]any)
			uri, _ := mm["uri"].(map[string]any)
			switch {
			case uri == nil:
				out = append(out, "/")
			case uri["exact"] != nil:
				out = append(out, fmt.Sprint(uri["exact"]))
			case uri["prefix"] != nil:
				out = append(out, fmt.Sprint(uri["prefix"]))
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "/")
	}
	return out
}

// routeSource reads which VirtualService the matched Envoy route came from:
// istiod stamps each route's metadata with its config path
// (filter_metadata.istio.config: /apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME).
func routeSource(sim *simulation.Simulation, res simulation.Result) string {
	if res.RouteMatched == "" {
		return ""
	}
	for _, rc := range sim.Routes {
		if rc.GetName() != res.RouteConfigMatched {
			continue
		}
		for _, vh := range rc.GetVirtualHosts() {
			if vh.GetName() != res.VirtualHostMatched {
				continue
			}
			for _, r := range vh.GetRoutes() {
				if r.GetName() != res.RouteMatched {
					continue
				}
				cfg := r.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue()
				parts := strings.Split(cfg, "/")
				if len(parts) >= 3 && parts[len(parts)-2] == "virtual-service" {
					return parts[len(parts)-3] + "/" + parts[len(parts)-1]
				}
				return ""
			}
		}
	}
	return ""
}
