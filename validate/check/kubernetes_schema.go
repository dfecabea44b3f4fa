package check

import (
	"encoding/json"
	"maps"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"meshops.dev/meshops/validate/index"
)

// KubernetesSchema decodes built-in kinds strictly into k8s.io/api types.
var KubernetesSchema = catalogued("K8S001")

// strictCodec decodes with the client-go scheme, refusing unknown and
// duplicate fields.
var strictCodec = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// builtinGroups are the API groups the client-go scheme knows.
var builtinGroups = sync.OnceValue(func() map[string]bool {
	groups := map[string]bool{}
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		groups[gv.Group] = true
	}
	return groups
})

// builtin reports whether the client-go scheme knows the object's group.
func builtin(o *index.Object) bool { return builtinGroups()[o.Group] }

func kubernetesSchema(ix *index.Index, _ *Env) []Finding {
	c := KubernetesSchema
	var out []Finding
	for _, o := range ix.Objects {
		if !builtin(o) || o.Content == nil {
			continue
		}
		content := o.Content
		if _, ok := content["sops"]; ok {
			// SOPS metadata: Flux's kustomize-controller decrypts the object
			// and removes it before applying, so the API server never sees it.
			content = maps.Clone(content)
			delete(content, "sops")
			// It decrypts every ENC[...] value first: the API server sees
			// the plaintext (base64 in a Secret's data), which the envelope
			// hides, so an empty value stands in for it.
			for _, field := range []string{"data", "binaryData"} {
				m, ok := content[field].(map[string]any)
				if !ok {
					continue
				}
				m = maps.Clone(m)
				for k, v := range m {
					if s, ok := v.(string); ok && strings.HasPrefix(s, "ENC[") {
						m[k] = ""
					}
				}
				content[field] = m
			}
		}
		raw, err := json.Marshal(content)
		if err != nil {
			continue
		}
		if _, _, err := strictCodec.Decode(raw, nil, nil); err != nil {
			msg := err.Error()
			if runtime.IsNotRegisteredError(err) {
				msg = "apiVersion " + o.Group + "/" + o.Version + " does not serve kind " + o.Kind
			}
			out = append(out, c.findingAt(ix, o, messageField(msg), "%s", strings.TrimPrefix(msg, "strict decoding error: ")))
		}
	}
	return out
}

func init() {
	KubernetesSchema.Target = kubernetesSchema
}
