// Package index holds one rendered target's resources, looked up by kind,
// namespace, name and labels, for the checks to query.
package index

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/resource"

	"meshops.dev/meshops/validate/render"
)

// Object is one rendered resource.
type Object struct {
	Res       *resource.Resource
	Group     string // API group, "" for core
	Version   string
	Kind      string
	Namespace string
	Name      string
	// Source is the repository file that declared the object.
	Source string
	// Content is the object as a generic map (apiVersion, kind, metadata, spec...).
	Content map[string]any

	istio      istioForm      // the typed form of an Istio object, decoded once (istio.go)
	gatewayAPI gatewayAPIForm // the typed form of a Gateway API object (gatewayapi.go)
}

// String names the object for messages: "WasmPlugin blog/blog-headers".
func (o *Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Labels returns metadata.labels (string values only; the schema checks
// report anything else).
func (o *Object) Labels() map[string]string { return o.metaMap("labels") }

// Annotations returns metadata.annotations.
func (o *Object) Annotations() map[string]string { return o.metaMap("annotations") }

// metaMap reads a string map from metadata from the generic form, which,
// unlike kyaml's accessors, tolerates any shape a malformed file gives it.
func (o *Object) metaMap(field string) map[string]string {
	meta, _ := o.Content["metadata"].(map[string]any)
	raw, _ := meta[field].(map[string]any)
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// Spec returns the object's spec as a map, or nil.
func (o *Object) Spec() map[string]any {
	spec, _ := o.Content["spec"].(map[string]any)
	return spec
}

// Index is one target's resources.
type Index struct {
	Target    render.Target
	Objects   []*Object
	byKind    map[string][]*Object
	result    *render.Result
	workloads []Workload            // decoded once by New
	lines     map[string][]docStart // Line's parsed files
	origin    *Index                // the index whose objects this one shares
}

// docStart is where a YAML document of a file starts, with its kind and name.
type docStart struct {
	kind, name string
	line       int
}

// New indexes a render result.
func New(r *render.Result) *Index {
	ix := &Index{Target: r.Target, byKind: map[string][]*Object{}, result: r}
	for _, res := range r.Resources.Resources() {
		gvk := res.GetGvk()
		o := &Object{
			Res:       res,
			Group:     gvk.Group,
			Version:   gvk.Version,
			Kind:      gvk.Kind,
			Namespace: res.GetNamespace(),
			Name:      res.GetName(),
			Source:    r.Source(res),
		}
		if m, err := res.Map(); err == nil {
			o.Content = m
		}
		ix.Objects = append(ix.Objects, o)
		ix.byKind[o.Kind] = append(ix.byKind[o.Kind], o)
	}
	ix.decodeWorkloads()
	return ix
}

// Share indexes r, a render that shares the resources of ix's render
// (render.Result.Share): the same objects, under r's target.
func (ix *Index) Share(r *render.Result) *Index {
	n := *ix
	n.Target = r.Target
	n.result = r
	n.lines = nil
	n.origin = ix.Origin()
	return &n
}

// Origin returns the index whose objects ix shares (Share), or ix itself.
func (ix *Index) Origin() *Index {
	if ix.origin != nil {
		return ix.origin
	}
	return ix
}

// Render returns the render result the index was built from.
func (ix *Index) Render() *render.Result { return ix.result }

// Object returns the indexed object of a rendered resource, or nil.
func (ix *Index) Object(res *resource.Resource) *Object {
	for _, o := range ix.Objects {
		if o.Res == res {
			return o
		}
	}
	return nil
}

// FieldSource returns the file to edit to change one field of o: the
// overlay or base patch that sets it, else the file that declares o.
func (ix *Index) FieldSource(o *Object, field ...string) string {
	return ix.result.FieldSource(o.Res, field...)
}

// ImageSource returns the kustomization whose images: list pins image (as
// rendered, without tag or digest), or "".
func (ix *Index) ImageSource(image string) string { return ix.result.ImageSource(image) }

// Line returns the line of file where the document declaring or patching o
// starts, or 0 when no document of the file names o (a kustomization file).
func (ix *Index) Line(file string, o *Object) int {
	if ix.lines == nil {
		ix.lines = map[string][]docStart{}
	}
	docs, ok := ix.lines[file]
	if !ok {
		docs, _ = ix.result.Memo(file, "index.docStarts", func() any { return parseDocStarts(ix.result, file) }).([]docStart)
		ix.lines[file] = docs
	}
	names := make([]string, len(docs))
	kinds := make([]string, len(docs))
	for i, d := range docs {
		kinds[i], names[i] = d.kind, d.name
	}
	if i := declaring(kinds, names, o); i >= 0 {
		return docs[i].line
	}
	// A chart-rendered object: its HelmRelease's or Application's line.
	return ix.result.EntryLine()
}

// declaring returns the index of the document (by kind and name) that
// declares o: the one of its kind and name or, when a namePrefix or
// nameSuffix renamed o, the one of its kind whose name o's name holds (the
// longest), or -1.
func declaring(kinds, names []string, o *Object) int {
	best := -1
	for i := range names {
		if kinds[i] != o.Kind || names[i] == "" {
			continue
		}
		if names[i] == o.Name {
			return i
		}
		if strings.Contains(o.Name, names[i]) && (best < 0 || len(names[i]) > len(names[best])) {
			best = i
		}
	}
	return best
}

// FieldLine returns the line of file where the field at path (map keys,
// "spec", "ports") of o is set: in the document that declares or patches
// o, the deepest key of path present there; in a kustomization, the
// operation of the inline JSON patch that sets it. It falls back to Line.
func (ix *Index) FieldLine(file string, o *Object, path ...string) int {
	if len(path) > 0 && render.KustomizationFile(ix.result.Tree(), dirOf(file)) == file {
		if n := ix.result.InlinePatchLine(file, o.Res, path); n > 0 {
			return n
		}
		return ix.Line(file, o)
	}
	docs, _ := ix.result.Memo(file, "index.docs", func() any { return parseDocs(ix.result, file) }).([]*yaml.Node)
	kinds, names := make([]string, len(docs)), make([]string, len(docs))
	for i, m := range docs {
		kinds[i], names[i] = docKind(m, "kind"), docName(m)
	}
	if i := declaring(kinds, names, o); i >= 0 {
		m := docs[i]
		line := m.Line
		cur := m
		for _, key := range path {
			next := (*yaml.Node)(nil)
			if i, err := strconv.Atoi(key); err == nil { // a list element
				if cur.Kind != yaml.SequenceNode || i < 0 || i >= len(cur.Content) {
					break
				}
				cur = cur.Content[i]
				line = cur.Line
				continue
			}
			candidates := []*yaml.Node{cur}
			if cur.Kind == yaml.SequenceNode { // the first element that has the key
				candidates = cur.Content
			}
		search:
			for _, c := range candidates {
				if c.Kind != yaml.MappingNode {
					continue
				}
				for i := 0; i+1 < len(c.Content); i += 2 {
					if c.Content[i].Value == key {
						line, next = c.Content[i].Line, c.Content[i+1]
						break search
					}
				}
			}
			if next == nil {
				break
			}
			cur = next
		}
		return line
	}
	return ix.Line(file, o)
}

// ImageLine returns the line of the images: entry of a kustomization file
// whose name or newName is image, or the line of images: itself when no
// entry is, or 0.
func (ix *Index) ImageLine(file, image string) int {
	docs, _ := ix.result.Memo(file, "index.docs", func() any { return parseDocs(ix.result, file) }).([]*yaml.Node)
	for _, m := range docs {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "images" {
				continue
			}
			for _, entry := range m.Content[i+1].Content {
				if docKind(entry, "name") == image || docKind(entry, "newName") == image {
					return entry.Line
				}
			}
			return m.Content[i].Line
		}
	}
	return 0
}

func dirOf(file string) string {
	if i := strings.LastIndex(file, "/"); i >= 0 {
		return file[:i]
	}
	return "."
}

// parseDocs returns the top-level mapping of each document of a file.
func parseDocs(r *render.Result, file string) []*yaml.Node {
	data, err := r.ReadFile(file)
	if err != nil {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return out
		}
		if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
			out = append(out, doc.Content[0])
		}
	}
}

// docKind returns the scalar value of a top-level key of a document.
func docKind(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// docName returns a document's metadata.name.
func docName(m *yaml.Node) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "metadata" {
			return docKind(m.Content[i+1], "name")
		}
	}
	return ""
}

func parseDocStarts(r *render.Result, file string) []docStart {
	data, err := r.ReadFile(file)
	if err != nil {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []docStart
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return out
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		d := docStart{line: m.Line}
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch m.Content[i].Value {
			case "kind":
				d.kind = m.Content[i+1].Value
			case "metadata":
				meta := m.Content[i+1]
				for j := 0; j+1 < len(meta.Content); j += 2 {
					if meta.Content[j].Value == "name" {
						d.name = meta.Content[j+1].Value
					}
				}
			}
		}
		out = append(out, d)
	}
}

// Narrow returns a copy of ix in which o is the only object of its kind:
// the other kinds are untouched. It lets a caller find which object a
// check cannot handle.
func (ix *Index) Narrow(o *Object) *Index {
	n := *ix
	n.lines = nil
	n.byKind = make(map[string][]*Object, len(ix.byKind))
	for k, objs := range ix.byKind {
		n.byKind[k] = objs
	}
	n.byKind[o.Kind] = []*Object{o}
	n.Objects = nil
	for _, x := range ix.Objects {
		if x.Kind != o.Kind || x == o {
			n.Objects = append(n.Objects, x)
		}
	}
	n.workloads = nil
	for _, w := range ix.workloads {
		if w.Kind != o.Kind || w.Object == o {
			n.workloads = append(n.workloads, w)
		}
	}
	return &n
}

// canonicalGroups are the API groups of the kinds the checks look up by
// kind alone: an Istio Gateway is networking.istio.io, and a Gateway API
// Gateway (gateway.networking.k8s.io) of the same name is another object.
var canonicalGroups = map[string]string{
	"Namespace": "", "Service": "", "Secret": "", "ConfigMap": "", "Pod": "", "ServiceAccount": "",
	"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ReplicaSet": "apps",
	"Job": "batch", "CronJob": "batch",
	"Gateway": "networking.istio.io", "VirtualService": "networking.istio.io", "DestinationRule": "networking.istio.io",
	"ServiceEntry": "networking.istio.io", "Sidecar": "networking.istio.io", "WorkloadEntry": "networking.istio.io",
	"WasmPlugin": "extensions.istio.io",
}

// CanonicalGroup returns the API group Kind and Get mean by kind, and
// whether kind has one; other kinds match in every group.
func CanonicalGroup(kind string) (string, bool) {
	g, ok := canonicalGroups[kind]
	return g, ok
}

// Kind returns every object of a kind, in render order: for the kinds of
// CanonicalGroup only those of that group (an Istio Gateway, not a Gateway
// API one); use GroupKind for another group.
func (ix *Index) Kind(kind string) []*Object {
	group, ok := canonicalGroups[kind]
	if !ok {
		return ix.byKind[kind]
	}
	return ix.GroupKind(group, kind)
}

// GroupKind returns every object of an API group and kind, in render order.
func (ix *Index) GroupKind(group, kind string) []*Object {
	var out []*Object
	for _, o := range ix.byKind[kind] {
		if o.Group == group {
			out = append(out, o)
		}
	}
	return out
}

// Get returns the object of a kind (in its canonical group, as Kind), namespace and name, or nil.
func (ix *Index) Get(kind, namespace, name string) *Object {
	for _, o := range ix.Kind(kind) {
		if o.Namespace == namespace && o.Name == name {
			return o
		}
	}
	return nil
}

// Namespace returns the Namespace object called name, or nil.
func (ix *Index) Namespace(name string) *Object { return ix.Get("Namespace", "", name) }

// Workload is an object that runs pods, with the template its pods get.
type Workload struct {
	*Object
	Template corev1.PodTemplateSpec
}

// WorkloadKinds are the kinds whose pods an Istio selector can match.
var WorkloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}

// Workloads returns every workload in namespace ("" for all namespaces),
// sorted by kind and name. Objects that do not decode are left to the schema
// check.
func (ix *Index) Workloads(namespace string) []Workload {
	if namespace == "" {
		return ix.workloads
	}
	var out []Workload
	for _, w := range ix.workloads {
		if w.Namespace == namespace {
			out = append(out, w)
		}
	}
	return out
}

// decodeWorkloads decodes every pod template once, when the index is built,
// for the many checks that look at workloads.
func (ix *Index) decodeWorkloads() {
	for _, kind := range WorkloadKinds {
		for _, o := range ix.Kind(kind) {
			if tpl, ok := podTemplate(o); ok {
				ix.workloads = append(ix.workloads, Workload{Object: o, Template: tpl})
			}
		}
	}
	sort.SliceStable(ix.workloads, func(i, j int) bool { return ix.workloads[i].String() < ix.workloads[j].String() })
}

func podTemplate(o *Object) (corev1.PodTemplateSpec, bool) {
	from := func(into any) bool {
		return o.Content != nil && runtime.DefaultUnstructuredConverter.FromUnstructured(o.Content, into) == nil
	}
	switch o.Kind {
	case "Deployment":
		var d appsv1.Deployment
		ok := from(&d)
		return d.Spec.Template, ok
	case "StatefulSet":
		var s appsv1.StatefulSet
		ok := from(&s)
		return s.Spec.Template, ok
	case "DaemonSet":
		var d appsv1.DaemonSet
		ok := from(&d)
		return d.Spec.Template, ok
	case "ReplicaSet":
		var r appsv1.ReplicaSet
		ok := from(&r)
		return r.Spec.Template, ok
	case "Job":
		var j batchv1.Job
		ok := from(&j)
		return j.Spec.Template, ok
	case "CronJob":
		var c batchv1.CronJob
		ok := from(&c)
		return c.Spec.JobTemplate.Spec.Template, ok
	case "Pod":
		var p corev1.Pod
		ok := from(&p)
		return corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}, ok
	}
	return corev1.PodTemplateSpec{}, false
}

// FieldPath splits a field path as the API server and Istio print it
// ("spec.http[0].route[1]") into map keys and list indexes
// ("spec", "http", "0", "route", "1").
func FieldPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				break
			}
			out = append(out, idx)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}
