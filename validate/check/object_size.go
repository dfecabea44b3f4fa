package check

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"meshops.dev/meshops/validate/index"
)

// maxDataBytes is core.MaxSecretSize (k8s.io/kubernetes pkg/apis/core): the
// API server's ValidateConfigMap and ValidateSecret refuse more data.
const maxDataBytes = 1 << 20

// maxObjectBytes is etcd's default --max-request-bytes (1.5 MiB): the
// largest write the API server can store.
const maxObjectBytes = 3 << 19

// maxRequestBytes is the API server's limit on a request body
// (k8s.io/apiserver pkg/server/config.go, MaxRequestBodyBytes: 3 MiB); over
// it the request fails with "413 Request entity too large: limit is 3145728"
// before anything else looks at the object.
const maxRequestBytes = 3 << 20

// DataSize catches ConfigMaps and Secrets the API server refuses for size.
var DataSize = catalogued("K8S004")

// ObjectSize catches objects too large for etcd.
var ObjectSize = catalogued("K8S005")

func init() {
	DataSize.Target = dataSize
	ObjectSize.Target = objectSize
}

func dataSize(ix *index.Index, _ *Env) []Finding {
	c := DataSize
	var out []Finding
	for _, kind := range []string{"ConfigMap", "Secret"} {
		for _, o := range ix.Kind(kind) {
			if o.Group != "" || o.Content == nil {
				continue
			}
			total := 0
			for _, field := range []string{"data", "binaryData", "stringData"} {
				for _, v := range mapOf(o.Content, field) {
					s, _ := v.(string)
					if field == "binaryData" || (kind == "Secret" && field == "data") {
						if b, err := base64.StdEncoding.DecodeString(s); err == nil {
							total += len(b)
							continue
						}
					}
					total += len(s)
				}
			}
			if total > maxDataBytes {
				out = append(out, c.findingAt(ix, o, []string{"data"}, "holds %s of data, more than the API server's limit of 1 MiB: it refuses the %s", size(total), kind))
			}
		}
	}
	return out
}

func objectSize(ix *index.Index, _ *Env) []Finding {
	c := ObjectSize
	var out []Finding
	for _, o := range ix.Objects {
		if o.Content == nil {
			continue
		}
		// The request: kubectl, kustomize-controller (controller-runtime)
		// and Argo CD send the object as JSON from encoding/json, which
		// writes each <, > and & as \u003c.
		request, err := json.Marshal(o.Content)
		if err != nil {
			continue
		}
		if n := len(request); n > maxRequestBytes {
			out = append(out, c.finding(ix, o, "is %s as the JSON request kubectl, Flux and Argo CD send, more than the API server's 3 MiB request limit: it answers 413 Request entity too large", size(n)))
			continue
		}
		// What is stored. A custom resource goes to etcd as JSON from
		// apimachinery's serializer (encoding/json's Encoder, escaping as
		// above). A built-in kind goes as protobuf, which copies strings as
		// they are: JSON without that escaping measures it, else an HTML
		// page in a ConfigMap would count up to six times its size.
		var data bytes.Buffer
		enc := json.NewEncoder(&data)
		enc.SetEscapeHTML(!builtin(o))
		if enc.Encode(o.Content) != nil {
			continue
		}
		if n := data.Len() - 1; n > maxObjectBytes { // Encode ends with a newline
			out = append(out, c.finding(ix, o, "is %s as JSON, more than etcd's 1.5 MiB request limit: the API server cannot store it", size(n)))
		}
	}
	return out
}

// size prints a byte count for people: "2.7 MiB (2831155 bytes)".
func size(n int) string {
	return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
}
