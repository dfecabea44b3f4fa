// Package analyze runs Istio's own analyzers (the ones istioctl analyze runs,
// pkg/config/analysis/analyzers of the pinned istio.io/istio) on one rendered
// target, fed from memory as istioctl analyze feeds files, and maps each
// message back to the rendered object and the field it is about.
package analyze

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	yaml "go.yaml.in/yaml/v3"
	"istio.io/istio/pkg/config/analysis"
	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/legacy/source/kube"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/analysis/msg"
	"istio.io/istio/pkg/config/resource"
	corev1 "k8s.io/api/core/v1"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/mesh"
)

// Excluded names the analyzers of analyzers.All() that are not run (by
// their Metadata().Name), each with the reason: they judge what a repository of Kubernetes manifests does
// not hold.
var Excluded = map[string]string{
	"meshnetworks.MeshNetworksAnalyzer":    "multicluster: checks meshNetworks against the remote clusters' Services, which live in other clusters",
	"services.MultiClusterServiceAnalyzer": "multicluster: compares a Service across the clusters of a mesh, which a single render does not hold",
	"externalcontrolplane.ExternalControlPlaneAnalyzer": "external control plane: checks the webhook configurations of a remote istiod installation, " +
		"which the platform installs outside the repository",
	"conditions.ConditionAnalyzer": "runtime-only status: reads the status conditions the cluster's controllers write, which a repository never holds",
	"k8sgateway.CRDVersionAnalyzer": "platform: checks the installed Gateway API CRDs' version against Istio's, " +
		"which the cluster provides, not the repository",
}

// schemaAnalyzer is the prefix of the analyzers that wrap istiod's webhook
// validation (schema.ValidationAnalyzer.<Kind>, IST0106). They are not run:
// IS001 and IS002 call the same validation (and the CRDs' schema first), and
// name the field's line.
const schemaAnalyzer = "schema.ValidationAnalyzer."

// Message is one analyzer message about an object of the target.
type Message struct {
	// Code is Istio's code (IST0101); Level is Istio's level: Error,
	// Warning or Info.
	Code, Level string
	// Text is Istio's message, without the code and the resource.
	Text string
	// Object is the rendered object the message is about: the workload for
	// a message about one of its pods.
	Object *index.Object
	// Path is the field of Object the message points at (map keys, list
	// indexes as numbers), nil when Istio names none.
	Path []string
	// Analyzer is the name of the analyzer that reported it.
	Analyzer string
}

// kubeSourceMu serialises the creation of the analyzers' file sources
// across every Analyzer of the process: it guards Istio's unsynchronised
// package counter (file.NewKubeSource), which is process-wide too.
var kubeSourceMu sync.Mutex

// Analyzer runs Istio's analyzers on targets. It is safe for concurrent use.
type Analyzer struct {
	platform *mesh.Platform
	// analyzers are Analyzers(); each analysis combines them afresh, since
	// IstiodAnalyzer.Analyze changes the combined analyzer it is given
	// (InternalCombinedAnalyzer.RemoveSkipped drops the analyzers whose
	// inputs the sources lack), and the targets are analyzed concurrently.
	analyzers []analysis.Analyzer
	// provided holds the objects the platform provides, as YAML documents.
	provided []source
	istioNS  string
	// reads holds the kinds (group and kind, any version) the analyzers
	// take as input: their Metadata().Inputs.
	reads map[[2]string]bool
	// tlsOnce makes, once, the certificate that stands for what an issuer
	// writes into a Certificate's Secret (issued).
	tlsOnce sync.Once
	tlsData string
	tlsErr  error

	mu   sync.Mutex
	done map[*index.Index]*result // each target analyzed once (Prepare)
}

// result is one target's analysis, computed once.
type result struct {
	once sync.Once
	msgs []Message
	err  error
}

// source is one document given to the analyzers, and what it stands for.
type source struct {
	name string
	yaml string
	// key is kind|namespace|name, for a platform object.
	key string
	// object is the rendered object; nil for the platform's objects.
	object *index.Object
	// template is the prefix of a workload's pod template (a synthesized
	// pod's fields map to it); nil for objects fed as they are.
	template []string
	// pod is true for a pod synthesized for a workload.
	pod bool
}

// Analyzers returns the analyzers New runs: analyzers.All() of the pinned
// module, without Excluded and the schema validation analyzers.
func Analyzers() []analysis.Analyzer {
	var out []analysis.Analyzer
	for _, a := range analyzers.All() {
		name := a.Metadata().Name
		if _, ok := Excluded[name]; ok || strings.HasPrefix(name, schemaAnalyzer) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// New returns an analyzer for targets installed on platform p.
func New(p *mesh.Platform) *Analyzer {
	mesh.SilenceIstioLog()
	a := &Analyzer{platform: p, analyzers: Analyzers(), istioNS: p.RootNamespace(),
		done: map[*index.Index]*result{}}
	if a.istioNS == "" {
		a.istioNS = "istio-system"
	}
	a.provided = platformSources(p, a.istioNS)
	a.reads = map[[2]string]bool{}
	for _, in := range analysis.Combine("meshops", a.analyzers...).Metadata().Inputs {
		a.reads[[2]string{in.Group, in.Kind}] = true
	}
	return a
}

// MessageTypes returns every message type Istio's analyzers may report,
// from the pinned module's catalogue (pkg/config/analysis/msg).
func MessageTypes() []*diag.MessageType {
	all := msg.All()
	sort.Slice(all, func(i, j int) bool { return all[i].Code() < all[j].Code() })
	return all
}

// Analyze returns the analyzers' messages on one target, running them the
// first time it is asked about ix: the pipeline asks on the worker that
// built the target (Prepare), in parallel with the others, and the check
// reads the answer.
func (a *Analyzer) Analyze(ix *index.Index) ([]Message, error) {
	// Targets that share a render (index.Share: the same objects) share
	// one analysis.
	key := ix.Origin()
	a.mu.Lock()
	r := a.done[key]
	if r == nil {
		r = &result{}
		a.done[key] = r
	}
	a.mu.Unlock()
	// Istio's stores register with its global krt debug handler: RunIstio
	// lets them go once the analysis ends.
	r.once.Do(func() { mesh.RunIstio(func() { r.msgs, r.err = a.analyze(key) }) })
	return r.msgs, r.err
}

// Prepare analyzes ix now, for Analyze to return later.
func (a *Analyzer) Prepare(ix *index.Index) {
	if a != nil {
		_, _ = a.Analyze(ix)
	}
}

func (a *Analyzer) analyze(ix *index.Index) ([]Message, error) {
	// A target none of whose objects (and no pod of whose workloads) an
	// analyzer reads (a cluster folder of Flux Kustomizations or Argo CD
	// Applications) can get no message: Istio's file source skips a kind
	// no analyzer reads (KubeSource.parseChunk, an unknown schema), and the
	// messages about the platform's objects are dropped (message).
	pods := a.pods(ix)
	if !a.readsAny(ix, pods) {
		return nil, nil
	}
	sources := append([]source(nil), a.provided...)
	rendered := map[string]bool{}
	for _, o := range ix.Objects {
		rendered[o.Kind+"|"+o.Namespace+"|"+o.Name] = true
	}
	// The platform's objects give way to the repository's own of that name.
	kept := sources[:0]
	for _, s := range sources {
		if !rendered[s.key] {
			kept = append(kept, s)
		}
	}
	sources = kept
	for i, o := range ix.Objects {
		if o.Content == nil || !a.reads[[2]string{o.Group, o.Kind}] {
			continue // a kind no analyzer reads: the file source would skip it
		}
		data, err := yaml.Marshal(inNamespace(o.Content))
		if err != nil {
			continue // K8S001 reports what does not decode
		}
		sources = append(sources, source{name: "object:" + strconv.Itoa(i), yaml: string(data), object: o})
	}
	sources = append(sources, pods...)
	sources = append(sources, controllerSecrets(ix, rendered, a.issued)...)

	sa := local.NewSourceAnalyzer(analysis.Combine("meshops", a.analyzers...), "", resource.Namespace(a.istioNS), nil)
	if a.platform.MeshYAML != "" {
		if err := a.addMeshConfig(sa); err != nil {
			return nil, err
		}
	}
	readers := make([]local.ReaderSource, len(sources))
	byName := make(map[string]*source, len(sources))
	for i := range sources {
		readers[i] = local.ReaderSource{Name: sources[i].name, Reader: strings.NewReader(sources[i].yaml)}
		byName[sources[i].name] = &sources[i]
	}
	// Parse errors are left to the schema checks: a document the analyzers
	// cannot read is one K8S001 or IS001 reports.
	// The first call creates the analyzer's file source, which numbers
	// itself from a package counter of Istio's that nothing guards
	// (pilot/pkg/config/file: NewKubeSource's inMemoryKubeNameDiscriminator):
	// create it with no documents under kubeSourceMu, then parse outside it.
	kubeSourceMu.Lock()
	_ = sa.AddTestReaderKubeSource(nil)
	kubeSourceMu.Unlock()
	_ = sa.AddTestReaderKubeSource(readers)
	cancel := make(chan struct{})
	defer close(cancel)
	res, err := sa.Analyze(cancel)
	if err != nil {
		return nil, fmt.Errorf("istio's analyzers: %w", err)
	}
	var out, fromPods []Message
	said := map[string]bool{} // analyzer|object of the rendered objects' messages
	for name, msgs := range res.MappedMessages {
		for _, m := range msgs {
			mm, pod, ok := a.message(m, byName)
			if !ok {
				continue
			}
			mm.Analyzer = name
			if pod {
				fromPods = append(fromPods, mm)
				continue
			}
			said[name+"|"+mm.Object.String()] = true
			out = append(out, mm)
		}
	}
	// A workload's pod says what the analyzer already says of the workload
	// (an annotation; image: auto, a warning on the Deployment, an error on
	// its pods): one finding, the workload's.
	for _, m := range fromPods {
		if !said[m.Analyzer+"|"+m.Object.String()] {
			out = append(out, m)
		}
	}
	out = collapse(out)
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Object != y.Object {
			return x.Object.String() < y.Object.String()
		}
		if x.Code != y.Code {
			return x.Code < y.Code
		}
		return x.Text < y.Text
	})
	return out, nil
}

// readsAny reports whether an analyzer reads one of ix's objects or one of
// the pods of its workloads.
func (a *Analyzer) readsAny(ix *index.Index, pods []source) bool {
	if len(pods) > 0 && a.reads[[2]string{"", "Pod"}] {
		return true
	}
	for _, o := range ix.Objects {
		if a.reads[[2]string{o.Group, o.Kind}] {
			return true
		}
	}
	return false
}

// collapse folds the messages several analyzers report alike (three of them
// say a Gateway's selector selects no pod) into one, naming them all in
// Analyzer ("a,b,c", sorted).
func collapse(in []Message) []Message {
	at := map[string]int{}
	var out []Message
	for _, m := range in {
		k := m.Code + "|" + m.Object.String() + "|" + strings.Join(m.Path, ".") + "|" + m.Text
		if i, ok := at[k]; ok {
			names := append(strings.Split(out[i].Analyzer, ","), m.Analyzer)
			sort.Strings(names)
			out[i].Analyzer = strings.Join(names, ",")
			continue
		}
		at[k] = len(out)
		out = append(out, m)
	}
	return out
}

// message maps m to the rendered object it is about. Messages about the
// platform's objects (which the repository does not hold) are dropped, and
// so are messages about no resource at all.
func (a *Analyzer) message(m diag.Message, byName map[string]*source) (out Message, pod, ok bool) {
	if m.Resource == nil || m.Resource.Origin == nil {
		return Message{}, false, false
	}
	ref, ok := m.Resource.Origin.Reference().(*kube.Position)
	if !ok || ref == nil {
		return Message{}, false, false
	}
	src := byName[ref.Filename]
	if src == nil || src.object == nil {
		return Message{}, false, false
	}
	out = Message{Code: m.Type.Code(), Level: m.Type.Level().String(), Text: fmt.Sprintf(m.Type.Template(), m.Parameters...), Object: src.object}
	if m.Line > 0 {
		out.Path = fieldAt(m.Resource.Origin.FieldMap(), m.Line)
		if out.Path != nil && src.template != nil {
			out.Path = append(append([]string(nil), src.template...), out.Path...)
		}
	}
	return out, src.template != nil || src.pod, true
}

// fieldAt returns the field whose value is at line of a document fed to the
// analyzers: Istio's field map ("{.spec.http[0].route[0].destination.host}"
// -> line) read backwards. Every scalar of a document yaml.Marshal writes
// has a line of its own.
func fieldAt(fields map[string]int, line int) []string {
	best := ""
	for path, l := range fields {
		if l == line && (best == "" || len(path) < len(best)) {
			best = path
		}
	}
	if best == "" {
		return nil
	}
	return index.FieldPath(strings.TrimSuffix(strings.TrimPrefix(best, "{."), "}"))
}

// inNamespace returns obj with metadata.namespace "default" when it names
// none: where the API server puts a namespaced object applied without one
// (and Istio's file reader clears it again for a cluster-scoped kind), so
// that the analyzers compare namespaces as the cluster will. A GitOps
// entry point's own namespace (targetNamespace, destination) is already in
// the render.
func inNamespace(obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	if ns, _ := meta["namespace"].(string); ns != "" || meta == nil {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	m := make(map[string]any, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m["namespace"] = "default"
	out["metadata"] = m
	return out
}

// templatePath is where a workload kind keeps its pod template.
func templatePath(kind string) []string {
	switch kind {
	case "Pod":
		return nil
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template"}
	}
	return []string{"spec", "template"}
}

// pods returns one pod per workload the target renders (a Pod it renders is
// fed as it is), as it runs in the cluster: with the sidecar Istio's
// injector adds when validate/mesh decides it injects one (mesh.Inject).
func (a *Analyzer) pods(ix *index.Index) []source {
	nsLabels := map[string]map[string]string{}
	for _, o := range ix.Kind("Namespace") {
		nsLabels[o.Name] = o.Labels()
	}
	var out []source
	for i, w := range ix.Workloads("") {
		if w.Kind == "Pod" {
			continue
		}
		ns := w.Namespace
		if ns == "" {
			ns = "default"
		}
		inj := mesh.Inject(a.platform.Revisions, ns, nsLabels[ns], w.Template.Labels, w.Template.Annotations, w.Template.Spec.HostNetwork)
		labels := map[string]string{}
		for k, v := range w.Template.Labels {
			labels[k] = v
		}
		spec := w.Template.Spec.DeepCopy()
		if inj.Sidecar {
			labels["security.istio.io/tlsMode"] = "istio"
			spec.Containers = append(spec.Containers, corev1.Container{Name: "istio-proxy", Image: ProxyImage})
		}
		pod := map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": w.Name + "-pod", "namespace": ns, "labels": labels, "annotations": w.Template.Annotations},
			"spec":     spec,
		}
		data, err := marshal(pod)
		if err != nil {
			continue
		}
		out = append(out, source{name: "pod:" + strconv.Itoa(i), yaml: data, object: w.Object, template: templatePath(w.Kind), pod: true})
	}
	return out
}

// controllerSecrets are the Secrets controllers write from what the target
// declares, which istioctl analyze cannot read from files: a cert-manager
// Certificate's spec.secretName (cert-manager's certificates controller
// issues a kubernetes.io/tls Secret of that name in the Certificate's
// namespace) and a SealedSecret's (bitnami's controller unseals it into a
// Secret of the same name and namespace, of spec.template's type). Istio's
// gateway secret analyzer (IST0101 on credentialName) then looks up what the
// cluster will hold; a Secret in the wrong namespace stays missing there
// (CRT001 says which Certificate). Like the platform's objects, they carry
// no finding of their own.
func controllerSecrets(ix *index.Index, rendered map[string]bool, issued func() (string, error)) []source {
	var out []source
	add := func(ns, name, typ string) {
		if ns == "" {
			ns = "default"
		}
		if name == "" || rendered["Secret|"+ns+"|"+name] {
			return
		}
		rendered["Secret|"+ns+"|"+name] = true
		if typ == "" {
			typ = "Opaque"
		}
		doc := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %q\n  namespace: %q\ntype: %q\n", name, ns, typ)
		if typ == "kubernetes.io/tls" {
			// What cert-manager issues: a certificate and its key, which
			// Istio's analyzer parses (IST0161 for an invalid one).
			if data, err := issued(); err == nil {
				doc += data
			}
		}
		out = append(out, source{name: "secret:" + ns + "/" + name, yaml: doc, key: "Secret|" + ns + "|" + name})
	}
	for _, o := range ix.GroupKind("cert-manager.io", "Certificate") {
		name, _ := o.Spec()["secretName"].(string)
		add(o.Namespace, name, "kubernetes.io/tls")
	}
	for _, o := range ix.GroupKind("bitnami.com", "SealedSecret") {
		tmpl, _ := o.Spec()["template"].(map[string]any)
		typ, _ := tmpl["type"].(string)
		add(o.Namespace, o.Name, typ)
	}
	return out
}

// issued returns, as the data: section of a kubernetes.io/tls Secret, a
// self-signed certificate and key standing for what an issuer writes,
// created once per Analyzer.
func (a *Analyzer) issued() (string, error) {
	a.tlsOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			a.tlsErr = err
			return
		}
		now := time.Now()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issued by the Certificate's issuer"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), DNSNames: []string{"example.test"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			a.tlsErr = err
			return
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			a.tlsErr = err
			return
		}
		crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		k := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		a.tlsData = "data:\n  tls.crt: " + base64.StdEncoding.EncodeToString(crt) + "\n  tls.key: " + base64.StdEncoding.EncodeToString(k) + "\n"
	})
	return a.tlsData, a.tlsErr
}
