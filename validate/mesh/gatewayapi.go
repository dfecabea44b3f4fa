package mesh

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"istio.io/istio/pilot/pkg/config/kube/gateway"
	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/status"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/config/schema/gvr"
	"istio.io/istio/pkg/test"

	"meshops.dev/meshops/validate/index"
)

// KubeGateway is a gateway.networking.k8s.io Gateway of a class istiod's
// gateway controller manages (istio.io/gateway-controller): the Deployment
// and Service its deployment controller creates for it.
type KubeGateway struct {
	Object *index.Object
	Spec   *gatewayv1.Gateway
	// Deployment is the gateway as an ingress gateway: the Service and pod
	// labels istiod's kube-gateway template gives the Deployment it creates.
	Deployment IngressGateway
}

// RouteStatus is the status istiod's gateway controller computes for one
// HTTPRoute or GRPCRoute: one entry per parent it handles.
type RouteStatus struct {
	Object  *index.Object
	Parents []gatewayv1.RouteParentStatus
}

// managedController is the controllerName of the GatewayClasses whose
// Gateways istiod deploys and programs (features.ManagedGatewayController).
var managedController = gatewayv1.GatewayController(features.ManagedGatewayController)

// GatewayClassController returns the controller of a Gateway's class as
// istiod resolves it (gatewaycommon.FetchGatewayClass): a rendered
// GatewayClass of that name, else one of the classes istiod creates itself
// (gatewaycommon.AllClasses: istio, and istio-remote, istio-waypoint,
// istio-east-west as its features enable them). ok is false for a class
// neither names.
func GatewayClassController(ix *index.Index, class string) (controller string, ok bool) {
	for _, c := range ix.GatewayClasses() {
		if c.Name == class {
			return string(c.Value.Spec.ControllerName), true
		}
	}
	if c, f := gatewaycommon.AllClasses[gatewayv1.ObjectName(class)]; f {
		return string(c), true
	}
	return "", false
}

// ManagedGatewayClasses are the classes istiod creates, by name.
func ManagedGatewayClasses() []string {
	var out []string
	for c := range gatewaycommon.AllClasses {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

// kubeGateways returns the target's Gateways whose class istiod's managed
// controller handles, with what its deployment controller creates.
func kubeGateways(ix *index.Index) []KubeGateway {
	var out []KubeGateway
	for _, g := range ix.KubeGateways() {
		ctl, ok := GatewayClassController(ix, string(g.Value.Spec.GatewayClassName))
		if !ok || gatewayv1.GatewayController(ctl) != managedController || !gatewaycommon.IsManaged(&g.Value.Spec) {
			continue
		}
		info := gatewaycommon.ClassInfos[managedController]
		ns := g.Value.Namespace
		if ns == "" {
			ns = "default"
		}
		// extractGatewayServices (pilot/pkg/config/kube/gateway/conversion.go):
		// the name-override annotation, else <name>-<class>.
		name := model.GetOrDefault(g.Value.Annotations[annotation.GatewayNameOverride.Name],
			gatewaycommon.GetDefaultName(g.Value.Name, &g.Value.Spec, info.DisableNameSuffix))
		// kube-gateway.yaml (manifests/charts/istio-control/istio-discovery/files):
		// the pod template's labels; the Service selects gateway-name.
		labels := map[string]string{
			"sidecar.istio.io/inject":                      "false",
			"service.istio.io/canonical-name":              name,
			"service.istio.io/canonical-revision":          "latest",
			"gateway.networking.k8s.io/gateway-name":       g.Value.Name,
			"gateway.networking.k8s.io/gateway-class-name": string(g.Value.Spec.GatewayClassName),
			"gateway.istio.io/managed":                     "istio.io-gateway-controller",
		}
		// extractServicePorts (gatewaycommon/deploymentcontroller.go): the
		// status port, then one port per listener port, targetPort unset (=
		// port): the gateway's Envoy listens on the listener's port.
		ports := []GatewayPort{{Name: "status-port", Port: 15021, TargetPort: 15021}}
		seen := map[int32]bool{}
		for _, l := range g.Value.Spec.Listeners {
			if seen[l.Port] {
				continue
			}
			seen[l.Port] = true
			ports = append(ports, GatewayPort{Name: fmt.Sprintf("%s-%d", strings.ToLower(string(l.Protocol)), l.Port), Port: l.Port, TargetPort: l.Port})
		}
		out = append(out, KubeGateway{Object: g.Object, Spec: g.Value,
			Deployment: IngressGateway{Name: name, Namespace: ns, Labels: labels, Ports: ports}})
	}
	return out
}

// gatewayAPIObjects returns the target's Gateway API objects as istiod's
// gateway controller reads them from the API server: Gateway, GatewayClass,
// HTTPRoute and GRPCRoute as v1, ReferenceGrant as v1beta1
// (pilot/pkg/config/kube/gateway/controller.go, NewController's informers).
func gatewayAPIObjects(ix *index.Index) []kruntime.Object {
	var out []kruntime.Object
	meta := func(m *metav1.ObjectMeta, namespaced bool) {
		if namespaced && m.Namespace == "" {
			m.Namespace = "default"
		}
		m.CreationTimestamp = metav1.NewTime(creation)
	}
	for _, o := range ix.GatewayClasses() {
		c := o.Value.DeepCopy()
		meta(&c.ObjectMeta, false)
		out = append(out, c)
	}
	for _, o := range ix.KubeGateways() {
		c := o.Value.DeepCopy()
		meta(&c.ObjectMeta, true)
		c.Status = gatewayv1.GatewayStatus{}
		out = append(out, c)
	}
	for _, o := range ix.HTTPRoutes() {
		c := o.Value.DeepCopy()
		meta(&c.ObjectMeta, true)
		c.Status = gatewayv1.HTTPRouteStatus{}
		out = append(out, c)
	}
	for _, o := range ix.GRPCRoutes() {
		c := o.Value.DeepCopy()
		meta(&c.ObjectMeta, true)
		c.Status = gatewayv1.GRPCRouteStatus{}
		out = append(out, c)
	}
	for _, o := range ix.ReferenceGrants() {
		c := gatewayv1beta1.ReferenceGrant(*o.Value.DeepCopy())
		c.APIVersion = gatewayv1beta1.GroupVersion.String()
		meta(&c.ObjectMeta, true)
		out = append(out, &c)
	}
	return out
}

// gatewayAPIResource returns the resource of a Gateway API object as its
// CRD names it, as istiod's informers list it (pkg/config/schema/gvr).
func gatewayAPIResource(o kruntime.Object) (schema.GroupVersionResource, bool) {
	switch o.(type) {
	case *gatewayv1.Gateway:
		return gvr.KubernetesGateway, true
	case *gatewayv1.GatewayClass:
		return gvr.GatewayClass, true
	case *gatewayv1.HTTPRoute:
		return gvr.HTTPRoute, true
	case *gatewayv1.GRPCRoute:
		return gvr.GRPCRoute, true
	case *gatewayv1beta1.ReferenceGrant:
		return gvr.ReferenceGrant, true
	}
	return schema.GroupVersionResource{}, false
}

// kubeGatewayPods returns the Service and the pod of each KubeGateway's
// Deployment, as the fake cluster's objects.
func kubeGatewayPods(gws []KubeGateway, nextIP func() string) (svcs []*corev1.Service, pods []pod) {
	for i, g := range gws {
		d := g.Deployment
		var ports []corev1.ServicePort
		var cports []corev1.ContainerPort
		for _, p := range d.Ports {
			proto := "tcp"
			if _, rest, ok := strings.Cut(p.Name, "-"); ok && p.Name != "status-port" {
				proto = strings.TrimSuffix(p.Name, "-"+rest)
			}
			ap := proto
			// targetPort as the API server defaults it: the port.
			ports = append(ports, corev1.ServicePort{Name: p.Name, Port: p.Port, TargetPort: intstr.FromInt32(p.TargetPort), Protocol: corev1.ProtocolTCP, AppProtocol: &ap})
			cports = append(cports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.TargetPort, Protocol: corev1.ProtocolTCP})
		}
		svcs = append(svcs, &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace, Labels: map[string]string{"gateway.networking.k8s.io/gateway-name": g.Spec.Name}},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"gateway.networking.k8s.io/gateway-name": g.Spec.Name}, Ports: ports,
				Type: corev1.ServiceTypeLoadBalancer, ClusterIP: netip.AddrFrom4([4]byte{172, 22, byte(i >> 8), byte(i + 1)}).String()},
		})
		ip := nextIP()
		p := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: podName(d.Name), Namespace: d.Namespace, Labels: d.Labels},
			Spec:       corev1.PodSpec{NodeName: "node", Containers: []corev1.Container{{Name: "istio-proxy", Image: "istio/proxyv2", Ports: cports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
		pods = append(pods, pod{pod: p, ip: ip, w: &Workload{Ref: "gateway " + d.String(), Kind: "Deployment", Namespace: d.Namespace, Name: d.Name}})
	}
	return svcs, pods
}

// statusStore is the API server end of istiod's status writer: the
// status.Manager's workers read each object's generation from it (Get) and
// write the status istiod computed (UpdateStatus), which it keeps.
type statusStore struct {
	model.ConfigStore // not called by status.Manager
	mu                sync.Mutex
	written           map[string]any // "Kind namespace/name" -> *...Status
	n                 int            // writes so far
}

func (s *statusStore) Get(typ config.GroupVersionKind, name, namespace string) *config.Config {
	// The objects are given to the fake cluster without a generation: 0.
	return &config.Config{Meta: config.Meta{GroupVersionKind: typ, Name: name, Namespace: namespace}}
}

func (s *statusStore) UpdateStatus(c config.Config) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written[c.GroupVersionKind.Kind+" "+c.Namespace+"/"+c.Name] = c.Status
	s.n++
	return "", nil
}

func (s *statusStore) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *statusStore) get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.written[key]
	return v, ok
}

// statusWait bounds the wait for istiod's gateway controller to settle.
const statusWait = 20 * time.Second

// settled is how long the controller's outputs and the statuses it writes
// must stay unchanged, once every expected status is there, to count as
// settled: its krt collections propagate each change on goroutines.
const settled = 25 * time.Millisecond

// gatewayAPIState is istiod's gateway controller once it has settled.
type gatewayAPIState struct {
	store  *statusStore
	routes []routeRef
}

type routeRef struct {
	o       *index.Object
	key     string // "HTTPRoute namespace/name", as the status store keys it
	parents []gatewayv1.ParentReference
	want    int // parent statuses istiod writes: one per parentRef to a Gateway it programs
}

// settleGatewayAPI turns istiod's status writing on for its gateway
// controller (Controller.SetStatusWrite, as the elected leader does)
// against a store that keeps what is written, and waits for the controller
// to settle. The fake discovery server returns before it has: the
// controller computes Gateways only once the first PushContext has called
// its Reconcile (gatewayContext), and routes attach to them after that,
// each step on krt's goroutines. It is settled when every Gateway istiod
// programs has a status, every route has one parent status per parentRef
// naming such a Gateway (createRouteStatus reports one per parentRef it
// handles), and the controller's Gateway and VirtualService outputs and the
// written statuses have not changed for a while. Then a full push makes the
// PushContext carry its outputs.
func settleGatewayAPI(s *xds.FakeDiscoveryServer, t test.Failer, ix *index.Index, gws []KubeGateway) (*gatewayAPIState, error) {
	ctl := s.Env().GatewayAPIController
	gc, ok := ctl.(*gateway.Controller)
	if !ok {
		return nil, fmt.Errorf("istiod's Gateway API controller is a %T, not pilot's gateway.Controller", ctl)
	}
	store := &statusStore{written: map[string]any{}}
	mgr := status.NewManager(store)
	mgr.Start(test.NewStop(t))
	gc.SetStatusWrite(true, mgr)

	programmed := map[string]bool{}
	var gwKeys []string
	for _, g := range gws {
		programmed[g.Deployment.Namespace+"/"+g.Spec.Name] = true
		gwKeys = append(gwKeys, gvk.KubernetesGateway.Kind+" "+g.Deployment.Namespace+"/"+g.Spec.Name)
	}
	st := &gatewayAPIState{store: store}
	add := func(o *index.Object, kind string, parents []gatewayv1.ParentReference) {
		ns := o.Namespace
		if ns == "" {
			ns = "default"
		}
		r := routeRef{o: o, key: kind + " " + ns + "/" + o.Name, parents: parents}
		seen := map[string]bool{}
		for _, p := range parents {
			if p.Group != nil && *p.Group != gatewayv1.GroupName || p.Kind != nil && *p.Kind != "Gateway" {
				continue
			}
			pns := ns
			if p.Namespace != nil {
				pns = string(*p.Namespace)
			}
			id := fmt.Sprintf("%s/%s/%v/%v", pns, p.Name, ptrString(p.SectionName), ptrPort(p.Port))
			if programmed[pns+"/"+string(p.Name)] && !seen[id] {
				seen[id] = true
				r.want++
			}
		}
		st.routes = append(st.routes, r)
	}
	for _, r := range ix.HTTPRoutes() {
		add(r.Object, gvk.HTTPRoute.Kind, r.Value.Spec.ParentRefs)
	}
	for _, r := range ix.GRPCRoutes() {
		add(r.Object, gvk.GRPCRoute.Kind, r.Value.Spec.ParentRefs)
	}

	complete := func() string {
		for _, k := range gwKeys {
			if _, ok := store.get(k); !ok {
				return "no status for " + k
			}
		}
		for _, r := range st.routes {
			if r.want == 0 {
				continue
			}
			if n := len(st.parents(r)); n < r.want {
				return fmt.Sprintf("%d of %d parent statuses for %s", n, r.want, r.key)
			}
		}
		return ""
	}
	fingerprint := func() string {
		var b strings.Builder
		for _, typ := range []config.GroupVersionKind{gvk.Gateway, gvk.VirtualService} {
			for _, c := range gc.List(typ, "") {
				fmt.Fprintf(&b, "%s/%s/%s@%s;", typ.Kind, c.Namespace, c.Name, c.ResourceVersion)
				b.WriteString(fmt.Sprint(c.Spec))
			}
		}
		fmt.Fprintf(&b, "|%d", store.writes())
		return b.String()
	}
	deadline := time.Now().Add(statusWait)
	last, since := "", time.Now()
	for {
		why := complete()
		fp := fingerprint()
		if fp != last {
			last, since = fp, time.Now()
		}
		if why == "" && time.Since(since) >= settled {
			break
		}
		if time.Now().After(deadline) {
			if why == "" {
				why = "its outputs kept changing"
			}
			return nil, fmt.Errorf("istiod's gateway controller did not settle within %v: %s", statusWait, why)
		}
		time.Sleep(time.Millisecond)
	}
	s.Discovery.ConfigUpdate(&model.PushRequest{Forced: true, Reason: model.NewReasonStats(model.ConfigUpdate)})
	s.EnsureSynced(t)
	return st, nil
}

func ptrString[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func ptrPort(p *gatewayv1.PortNumber) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// parents returns the parent statuses istiod wrote for a route.
func (st *gatewayAPIState) parents(r routeRef) []gatewayv1.RouteParentStatus {
	v, _ := st.store.get(r.key)
	switch s := v.(type) {
	case *gatewayv1.HTTPRouteStatus:
		return s.Parents
	case *gatewayv1.GRPCRouteStatus:
		return s.Parents
	}
	return nil
}

// statuses returns every route's status, in render order.
func (st *gatewayAPIState) statuses() []*RouteStatus {
	var out []*RouteStatus
	for _, r := range st.routes {
		out = append(out, &RouteStatus{Object: r.o, Parents: st.parents(r)})
	}
	return out
}

// attaches reports whether a route's parentRef names the Gateway gw (in
// namespace ns) and, when it names a section or port, listener l.
func attaches(p gatewayv1.ParentReference, routeNS string, gw *gatewayv1.Gateway, gwNS string, l gatewayv1.Listener) bool {
	if p.Group != nil && *p.Group != gatewayv1.GroupName || p.Kind != nil && *p.Kind != "Gateway" {
		return false
	}
	ns := routeNS
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	if ns != gwNS || string(p.Name) != gw.Name {
		return false
	}
	return (p.SectionName == nil || *p.SectionName == l.Name) && (p.Port == nil || *p.Port == l.Port)
}

// kubeRequests returns one request per HTTPRoute hostname (the listener's
// hostname for a route without one) and per path match of its rules, on
// each HTTP listener of the Gateway the route names as a parent. A host
// with a wildcard, and a route and listener without any hostname, are not
// simulated: no one host stands for them.
func kubeRequests(ix *index.Index, kg *KubeGateway) []request {
	var reqs []request
	seen := map[string]bool{}
	gwNS := kg.Deployment.Namespace
	for _, l := range kg.Spec.Spec.Listeners {
		if l.Protocol != gatewayv1.HTTPProtocolType {
			continue // HTTPS needs a certificate to simulate; TCP and TLS carry no HTTP route
		}
		for _, r := range ix.HTTPRoutes() {
			ns := r.Value.Namespace
			if ns == "" {
				ns = "default"
			}
			attached := false
			for _, p := range r.Value.Spec.ParentRefs {
				attached = attached || attaches(p, ns, kg.Spec, gwNS, l)
			}
			if !attached {
				continue
			}
			var hosts []string
			for _, h := range r.Value.Spec.Hostnames {
				hosts = append(hosts, string(h))
			}
			if len(hosts) == 0 && l.Hostname != nil {
				hosts = []string{string(*l.Hostname)}
			}
			for _, h := range hosts {
				if strings.Contains(h, "*") {
					continue
				}
				for _, path := range routePaths(r.Value) {
					k := fmt.Sprintf("%s|%d|%s", h, l.Port, path)
					if seen[k] {
						continue
					}
					seen[k] = true
					reqs = append(reqs, request{host: h, port: int(l.Port), path: path, route: r.Object})
				}
			}
		}
	}
	return reqs
}

// routePaths returns one request path per path match of an HTTPRoute's
// rules (Exact and PathPrefix values; RegularExpression is not simulated),
// "/" for a rule without one.
func routePaths(r *gatewayv1.HTTPRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		if len(rule.Matches) == 0 {
			out = append(out, "/")
		}
		for _, m := range rule.Matches {
			switch {
			case m.Path == nil || m.Path.Value == nil:
				out = append(out, "/")
			case m.Path.Type == nil || *m.Path.Type != gatewayv1.PathMatchRegularExpression:
				out = append(out, *m.Path.Value)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "/")
	}
	return out
}
