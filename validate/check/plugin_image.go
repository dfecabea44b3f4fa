package check

import (
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"meshops.dev/meshops/validate/index"
)

// PluginImage checks the WasmPlugin url the way Istio's fetcher reads it.
var PluginImage = &Check{
	Code:     "WP004",
	Name:     "wasmplugin-image",
	Severity: Error,
	Summary:  "a WasmPlugin url has an explicit scheme, an OCI image is pinned by tag (not latest) or digest, sha256 agrees with the digest, and imagePullSecret names a docker-registry Secret",
	Rationale: "Without a scheme Istio guesses: `localhost:5000/x:v1` is read as scheme `localhost` and rejected, and Kustomize's image " +
		"transformer needs the oci:// form to pin the plugin. An untagged or latest image is not a GitOps pin and makes Istio " +
		"default imagePullPolicy to Always. A url digest that disagrees with spec.sha256 makes every fetch fail. An imagePullSecret " +
		"must be a kubernetes.io/dockerconfigjson Secret in the plugin's namespace, or the pull is unauthenticated.",
}

func init() { PluginImage.Target = pluginImage }

func pluginImage(ix *index.Index, _ *Env) []Finding {
	c := PluginImage
	var out []Finding
	for _, o := range ix.Kind("WasmPlugin") {
		spec := o.Spec()
		raw := str(spec, "url")
		if raw == "" {
			continue // required field: the schema check reports it
		}
		u, err := url.Parse(raw)
		scheme := ""
		if err == nil {
			scheme = u.Scheme
		}
		switch scheme {
		case "oci":
			file := ix.ImageSource(imageName(raw))
			if file == "" {
				file = ix.FieldSource(o, "spec", "url")
			}
			out = append(out, checkOCIURL(c, ix, o, file, raw, str(spec, "sha256"))...)
		case "http", "https", "file":
		default:
			out = append(out, c.findingIn(ix, o, ix.FieldSource(o, "spec", "url"), "url %q has no oci://, http(s):// or file:// scheme: Istio misreads a registry host with a port as a scheme; write oci://%s", raw, strings.TrimPrefix(raw, scheme+"://")))
		}
		if secret := str(spec, "imagePullSecret"); secret != "" {
			out = append(out, checkPullSecret(c, ix, o, secret)...)
		}
	}
	return out
}

func checkOCIURL(c *Check, ix *index.Index, o *index.Object, file, raw, sha string) []Finding {
	image := strings.TrimPrefix(raw, "oci://")
	ref, err := name.ParseReference(image)
	if err != nil {
		return []Finding{c.findingIn(ix, o, file, "url %q is not a valid image reference: %v", raw, err)}
	}
	switch r := ref.(type) {
	case name.Digest:
		hex := strings.TrimPrefix(r.DigestStr(), "sha256:")
		if sha != "" && sha != hex {
			return []Finding{c.findingIn(ix, o, ix.FieldSource(o, "spec", "sha256"), "url digest %s and sha256 %s disagree: Istio rejects the fetched module; drop sha256 or make it the same digest", r.DigestStr(), sha)}
		}
	case name.Tag:
		if !hasExplicitTag(image) {
			return []Finding{c.findingIn(ix, o, file, "url %q has no tag or digest, so it means latest: pin a tag (newTag in the overlay's images:) or a digest", raw)}
		}
		if r.TagStr() == "latest" {
			return []Finding{c.findingIn(ix, o, file, "url %q uses the latest tag: it is no pin, and Istio then pulls on every change (imagePullPolicy Always); pin a version", raw)}
		}
	}
	return nil
}

// hasExplicitTag reports whether an image reference spells out a tag
// (go-containerregistry defaults a missing one to latest).
func hasExplicitTag(image string) bool {
	last := image[strings.LastIndex(image, "/")+1:]
	return strings.Contains(last, ":") || strings.Contains(last, "@")
}

func checkPullSecret(c *Check, ix *index.Index, o *index.Object, secret string) []Finding {
	file := ix.FieldSource(o, "spec", "imagePullSecret")
	s := ix.Get("Secret", o.Namespace, secret)
	if s == nil {
		for _, other := range ix.Kind("Secret") {
			if other.Name == secret {
				return []Finding{c.findingIn(ix, o, file, "imagePullSecret %q is deployed in namespace %s, not in the plugin's namespace %s: the pull would be unauthenticated", secret, other.Namespace, o.Namespace)}
			}
		}
		return nil // managed outside this repository
	}
	if t := str(s.Content, "type"); t != "kubernetes.io/dockerconfigjson" {
		return []Finding{c.findingIn(ix, o, file, "imagePullSecret %q is a Secret of type %q; Istio needs type kubernetes.io/dockerconfigjson", secret, t)}
	}
	return nil
}
