// Package gatewayapi holds the Kubernetes Gateway API's standard-channel
// CRDs, from the sigs.k8s.io/gateway-api version istio.io/istio pins, for
// the API server's half of admission (schema, enums, CEL rules) offline.
package gatewayapi

//go:generate go run gen.go

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"meshops.dev/meshops/validate/crdschema"
)

// CRDs is every gateway.networking.k8s.io_*.yaml CRD of the pinned module's
// config/crd/standard (the standard channel: Gateway, GatewayClass,
// HTTPRoute, GRPCRoute, ReferenceGrant, ...), each preceded by a document
// separator, in file name order (go generate ./validate/gatewayapi). The
// channel's ValidatingAdmissionPolicy (vap_safeupgrades) is no CRD and is
// left out.
//
//go:embed crds.gen.yaml
var CRDs []byte

// Group is the Gateway API's group.
const Group = "gateway.networking.k8s.io"

// Bundle concatenates the standard channel's CRD files of the module
// directory dir (config/crd/standard/gateway.networking.k8s.io_*.yaml,
// in name order), each after a document separator: what crds.gen.yaml holds.
func Bundle(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no standard-channel CRD in %s", dir)
	}
	sort.Strings(files)
	var out bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			out.WriteString("\n")
		}
	}
	return out.Bytes(), nil
}

// New returns a validator for the embedded CRDs.
func New() (*crdschema.Validator, error) {
	v, err := crdschema.New(CRDs)
	if err != nil {
		return nil, fmt.Errorf("gateway API CRDs: %w", err)
	}
	return v, nil
}
