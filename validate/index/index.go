// Package index holds one rendered target's resources, looked up by kind,
// namespace, name and labels, for the checks to query.
package index

import (
	"bytes"
	"sort"

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
		docs = parseDocStarts(ix.result, file)
		ix.lines[file] = docs
	}
	for _, d := range docs {
		if d.kind == o.Kind && d.name == o.Name {
			return d.line
		}
	}
	return 0
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

// Kind returns every object of a kind, in render order.
func (ix *Index) Kind(kind string) []*Object { return ix.byKind[kind] }

// Get returns the object of a kind, namespace and name, or nil.
func (ix *Index) Get(kind, namespace, name string) *Object {
	for _, o := range ix.byKind[kind] {
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
		for _, o := range ix.byKind[kind] {
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
