package check

import (
	"bytes"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// declaredTwice returns two declarations of one Istio object the target
// renders under two API versions (networking.istio.io/v1 and v1beta1, say),
// or nil, nil. Kustomize keeps both, since its resource ids include the
// version; the API server and istiod's config store key an object by group,
// kind, namespace and name only, so the two are one object there: the
// cluster keeps whichever was applied last, and istiod's store refuses the
// second ("item already exists").
func declaredTwice(ix *index.Index) (first, second *index.Object) {
	type key struct{ group, kind, namespace, name string }
	seen := map[key]*index.Object{}
	for _, o := range ix.Objects {
		if !strings.HasSuffix(o.Group, "istio.io") {
			continue
		}
		ns := o.Namespace
		if ns == "" {
			ns = "default" // where the validator, like a namespace-less apply, puts it
		}
		k := key{o.Group, o.Kind, ns, o.Name}
		if seen[k] != nil {
			return seen[k], o
		}
		seen[k] = o
	}
	return nil, nil
}

// versionLine returns the line where the document of file that declares o
// in o's API version starts, or 0.
func versionLine(tree *render.Tree, file string, o *index.Object) int {
	if tree == nil {
		return 0
	}
	data, err := tree.ReadFile(file)
	if err != nil {
		return 0
	}
	apiVersion := o.Version
	if o.Group != "" {
		apiVersion = o.Group + "/" + o.Version
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		var n yamlv3.Node
		if dec.Decode(&n) != nil {
			return 0
		}
		if len(n.Content) == 0 || n.Content[0].Decode(&doc) != nil {
			continue
		}
		if doc.APIVersion == apiVersion && doc.Kind == o.Kind && doc.Metadata.Name == o.Name {
			return n.Content[0].Line
		}
	}
}
