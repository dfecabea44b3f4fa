package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// Client asks an API server, by server-side dry-run, whether it admits
// objects. It works with the harness's server or any cluster.
type Client struct {
	dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// NewClient returns a client for the server cfg points at.
func NewClient(cfg *rest.Config) (*Client, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	return &Client{dynamic: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}, nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs creates every CustomResourceDefinition in the manifests (other
// kinds are skipped) and waits until each is Established, so that objects of
// its kinds can be created.
func (c *Client) InstallCRDs(ctx context.Context, manifests ...[]byte) error {
	var names []string
	for _, m := range manifests {
		objs, err := Decode(m)
		if err != nil {
			return fmt.Errorf("install CRDs: %w", err)
		}
		for _, o := range objs {
			if o.GroupVersionKind() != (schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}) {
				continue
			}
			if _, err := c.dynamic.Resource(crdResource).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("install CRD %s: %w", o.GetName(), err)
			}
			names = append(names, o.GetName())
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			crd, err := c.dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, cond := range conds {
				m, _ := cond.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not Established: %w", name, err)
		}
	}
	c.mapper.Reset()
	return nil
}

var namespaceResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// EnsureNamespaces creates the namespaces that do not exist yet, for real: a
// dry-run into a namespace that does not exist fails, even when the batch
// holds the Namespace. Names the server refuses are skipped: the dry-run of
// the objects in them reports it.
func (c *Client) EnsureNamespaces(ctx context.Context, names []string) error {
	for _, name := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
		_, err := c.dynamic.Resource(namespaceResource).Create(ctx, ns, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err), apierrors.IsInvalid(err):
		default:
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// Mode is how an engine sends an object to the API server.
type Mode string

const (
	// Apply is server-side apply with forced ownership, as Flux's
	// kustomize-controller applies (field manager kustomize-controller).
	// Server-side apply refuses fields the schema does not declare whatever
	// the field validation; Strict adds duplicate fields.
	Apply Mode = "server-side apply"
	// Create is a create with fieldValidation=Strict, as kubectl apply
	// (and Argo CD, which runs it) sends a new object.
	Create Mode = "create (strict)"
)

// Modes are the ways every object is dry-run.
var Modes = []Mode{Apply, Create}

// DryRun sends obj to the server in the given mode with dryRun=All and
// returns the server's refusal, or nil. A namespaced object without a
// namespace goes to "default", where Argo CD's or Flux's default would put it.
func (c *Client) DryRun(ctx context.Context, obj *unstructured.Unstructured, mode Mode) error {
	gvk := obj.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return &NotServedError{GVK: gvk}
		}
		return fmt.Errorf("map %s: %w", gvk, err)
	}
	// A copy in the API machinery's JSON form (whole numbers as int64):
	// objects decoded elsewhere may hold Go ints, which it cannot copy.
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	obj = &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("encode %s: %w", gvk.Kind, err)
	}
	var res dynamic.ResourceInterface = c.dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(metav1.NamespaceDefault)
		}
		res = c.dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	}
	dryRun := []string{metav1.DryRunAll}
	switch mode {
	case Apply:
		data, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = res.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			DryRun: dryRun, Force: ptr(true), FieldManager: "kustomize-controller", FieldValidation: metav1.FieldValidationStrict,
		})
		return refusal(err)
	case Create:
		_, err := res.Create(ctx, obj, metav1.CreateOptions{DryRun: dryRun, FieldValidation: metav1.FieldValidationStrict, FieldManager: "argocd-controller"})
		if apierrors.IsAlreadyExists(err) {
			// The registry validates (rest.BeforeCreate) and runs admission
			// before its storage finds the name taken: a Namespace the
			// harness created passed every rule to get there.
			return nil
		}
		return refusal(err)
	}
	return fmt.Errorf("unknown dry-run mode %q", mode)
}

// refusal keeps the server's answer; a request that never reached it (the
// connection failed) is not a verdict, and is marked so.
func refusal(err error) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return &TransportError{Err: err}
}

// NotServedError is an object of a kind the server does not serve: no CRD
// installed for it, or an apiVersion it does not know.
type NotServedError struct{ GVK schema.GroupVersionKind }

func (e *NotServedError) Error() string { return "the server does not serve " + e.GVK.String() }

// TransportError is a dry-run that got no answer from the server.
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return "no answer from the API server: " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

func ptr[T any](v T) *T { return &v }

// Decode reads the YAML documents of a manifest as objects, skipping empty
// documents.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := kubeyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Namespaces returns, sorted, the namespaces the objects live in (a
// namespaced object without one lives in "default") and the Namespaces they
// declare, as the server's discovery scopes their kinds; kinds it does not
// serve are left out.
func (c *Client) Namespaces(objs []*unstructured.Unstructured) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Group == "" && gvk.Kind == "Namespace" {
			seen[o.GetName()] = true
			continue
		}
		mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil || mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		seen[ns] = true
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		if ns != "" {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}
