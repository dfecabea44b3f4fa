// Package gitops holds the CustomResourceDefinitions of Flux and Argo CD,
// copied from their pinned releases, so that the entry points under
// clusters/ are validated as the API server would validate them.
package gitops

//go:generate go run gen.go

import (
	"embed"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/crdschema"
)

// ArgoCDVersion is the Argo CD release whose CRDs are embedded: the newest
// whose module the Go 1.26 toolchain accepts.
const ArgoCDVersion = "v3.5.7"

// HelmControllerVersion is the helm-controller release whose HelmRelease CRD
// is embedded.
const HelmControllerVersion = "v1.6.4"

// Source is one embedded CRD file and the module file it is copied from.
type Source struct {
	File    string // under crds/
	Module  string
	Version string // "" for the version go.mod requires of VersionOf
	// VersionOf is the module in go.mod whose version Module follows (the
	// Flux controllers release their api modules with the same tags).
	VersionOf string
	Path      string // inside the module
	// StripDescriptions drops the schema's description fields, which do not
	// validate anything, to keep the embedded file under 1 MiB.
	StripDescriptions bool
}

// Sources lists the embedded CRDs: the kinds this repository's entry points
// use. Other Flux and Argo CD kinds are not validated.
var Sources = []Source{
	{File: "flux-kustomizations.yaml", Module: "github.com/fluxcd/kustomize-controller", VersionOf: "github.com/fluxcd/kustomize-controller/api",
		Path: "config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"},
	{File: "flux-gitrepositories.yaml", Module: "github.com/fluxcd/source-controller", VersionOf: "github.com/fluxcd/source-controller/api",
		Path: "config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml"},
	{File: "flux-helmrepositories.yaml", Module: "github.com/fluxcd/source-controller", VersionOf: "github.com/fluxcd/source-controller/api",
		Path: "config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml"},
	{File: "flux-ocirepositories.yaml", Module: "github.com/fluxcd/source-controller", VersionOf: "github.com/fluxcd/source-controller/api",
		Path: "config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml"},
	// The controller module of helm-controller's api release in go.mod
	// (v1.6.5) is not served by the module proxy here: the CRD is that of
	// v1.6.4, the nearest release of the same Flux distribution.
	{File: "flux-helmreleases.yaml", Module: "github.com/fluxcd/helm-controller", Version: HelmControllerVersion,
		Path: "config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml"},
	{File: "argocd-applications.yaml", Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCDVersion, Path: "manifests/crds/application-crd.yaml"},
	{File: "argocd-appprojects.yaml", Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCDVersion, Path: "manifests/crds/appproject-crd.yaml"},
	{File: "argocd-applicationsets.yaml", Module: "github.com/argoproj/argo-cd/v3", Version: ArgoCDVersion, Path: "manifests/crds/applicationset-crd.yaml", StripDescriptions: true},
}

// Transform returns what is embedded of an upstream CRD file: the file, or
// for StripDescriptions, the file without its description fields.
func (s Source) Transform(upstream []byte) ([]byte, error) {
	if !s.StripDescriptions {
		return upstream, nil
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(upstream, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	stripDescriptions(&doc)
	// Compact JSON, which is YAML: the schema nests deep enough that
	// indentation alone would exceed 1 MiB.
	data, err := yamlv3.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	data, err = yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func stripDescriptions(n *yamlv3.Node) {
	if n.Kind == yamlv3.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			// A property named "description" is a schema, not a description.
			if n.Content[i].Value == "description" && n.Content[i+1].Kind == yamlv3.ScalarNode {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		stripDescriptions(c)
	}
}

//go:embed crds/*.yaml
var files embed.FS

// New returns a validator for every embedded CRD.
func New() (*crdschema.Validator, error) {
	var manifests [][]byte
	for _, s := range Sources {
		data, err := files.ReadFile("crds/" + s.File)
		if err != nil {
			return nil, err
		}
		manifests = append(manifests, data)
	}
	v, err := crdschema.New(manifests...)
	if err != nil {
		return nil, fmt.Errorf("gitops CRDs: %w", err)
	}
	return v, nil
}

// Embedded returns an embedded CRD file's contents.
func Embedded(s Source) ([]byte, error) { return files.ReadFile("crds/" + s.File) }

// Upstream returns the path of a source's file in the module cache,
// downloading the module through the Go module proxy if need be. dir is a
// directory of this repository's root module.
func Upstream(dir string, s Source) (string, error) {
	version := s.Version
	if version == "" {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", s.VersionOf)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("go list -m %s: %w", s.VersionOf, err)
		}
		version = strings.TrimSpace(string(out))
	}
	cmd := exec.Command("go", "mod", "download", "-json", s.Module+"@"+version)
	cmd.Dir = dir
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s", s.Module, version, err, info.Error)
	}
	return filepath.Join(info.Dir, filepath.FromSlash(s.Path)), nil
}
