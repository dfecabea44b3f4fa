package check

import (
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"meshops.dev/meshops/validate/index"
)

// PluginImage checks the WasmPlugin url's scheme, the way Istio's fetcher
// reads it. It runs the url checks; each condition has its own code so the
// ignore annotation can silence exactly one.
var PluginImage = catalogued("WP004")

// PluginImageReference catches an oci:// url that is no image reference.
var PluginImageReference = catalogued("WP006")

// PluginImagePin catches an OCI plugin image that is not pinned.
var PluginImagePin = catalogued("WP007")

// PluginImageDigest catches a url digest that disagrees with spec.sha256.
var PluginImageDigest = catalogued("WP008")

// PluginPullSecret checks a WasmPlugin's imagePullSecret.
var PluginPullSecret = catalogued("WP009")

func init() {
	for _, c := range []*Check{PluginImage, PluginImageReference, PluginImagePin, PluginImageDigest, PluginPullSecret} {
		c.Target = pluginImageCode(c.Code)
	}
}

// pluginImageCode runs the url checks and keeps one condition's findings,
// so that each code is a check of its own.
func pluginImageCode(code string) func(*index.Index, *Env) []Finding {
	return func(ix *index.Index, env *Env) []Finding {
		var out []Finding
		for _, f := range pluginImage(ix, env) {
			if f.Code == code {
				out = append(out, f)
			}
		}
		return out
	}
}

func pluginImage(ix *index.Index, _ *Env) []Finding {
	c := PluginImage
	var out []Finding
	for _, p := range ix.WasmPlugins() {
		o, spec := p.Object, p.Spec
		raw := spec.GetUrl()
		if raw == "" {
			continue // required field: the schema check reports it
		}
		u, err := url.Parse(raw)
		scheme := ""
		switch {
		case strings.HasPrefix(raw, "oci://"):
			scheme = "oci" // url.Parse refuses oci://host:v1, a reference with a tag and no path
		case err == nil:
			scheme = u.Scheme
		}
		switch scheme {
		case "oci":
			file := ix.ImageSource(imageName(raw))
			if file == "" {
				file = ix.FieldSource(o, "spec", "url")
			}
			out = append(out, checkOCIURL(ix, o, file, raw, spec.GetSha256())...)
		case "http", "https", "file":
		default:
			out = append(out, c.findingAt(ix, o, []string{"spec", "url"}, "url %q has no oci://, http(s):// or file:// scheme: Istio misreads a registry host with a port as a scheme; write oci://%s", raw, strings.TrimPrefix(raw, scheme+"://")))
		}
		if secret := spec.GetImagePullSecret(); secret != "" {
			out = append(out, checkPullSecret(ix, o, secret)...)
		}
	}
	return out
}

func checkOCIURL(ix *index.Index, o *index.Object, file, raw, sha string) []Finding {
	image := strings.TrimPrefix(raw, "oci://")
	ref, err := name.ParseReference(image)
	if err != nil {
		return []Finding{PluginImageReference.findingImage(ix, o, file, imageName(raw), "url %q is not a valid image reference: %v", raw, err)}
	}
	switch r := ref.(type) {
	case name.Digest:
		hex := strings.TrimPrefix(r.DigestStr(), "sha256:")
		if sha != "" && sha != hex {
			return []Finding{PluginImageDigest.findingAt(ix, o, []string{"spec", "sha256"}, "url digest %s and sha256 %s disagree: Istio rejects the fetched module; drop sha256 or make it the same digest", r.DigestStr(), sha)}
		}
	case name.Tag:
		if !hasExplicitTag(image) {
			return []Finding{PluginImagePin.findingImage(ix, o, file, imageName(raw), "url %q has no tag or digest, so it means latest: pin a tag (newTag in the overlay's images:) or a digest", raw)}
		}
		if r.TagStr() == "latest" {
			return []Finding{PluginImagePin.findingImage(ix, o, file, imageName(raw), "url %q uses the latest tag: it is no pin, and Istio then pulls on every change (imagePullPolicy Always); pin a version", raw)}
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

func checkPullSecret(ix *index.Index, o *index.Object, secret string) []Finding {
	c := PluginPullSecret
	s := ix.Get("Secret", o.Namespace, secret)
	if s == nil {
		if sealed := sealedSecret(ix, o.Namespace, secret); sealed != nil {
			// bitnami's sealed-secrets controller writes the Secret under the
			// SealedSecret's name and namespace, its type from spec.template
			// (pkg/apis/sealedsecrets/v1alpha1, SealedSecret.Unseal).
			if t := str(mapOf(sealed.Spec(), "template"), "type"); t != "kubernetes.io/dockerconfigjson" {
				return []Finding{c.findingAt(ix, o, []string{"spec", "imagePullSecret"}, "imagePullSecret %q is a SealedSecret whose spec.template.type is %q; Istio needs type kubernetes.io/dockerconfigjson", secret, t)}
			}
			return nil
		}
		for _, other := range ix.Kind("SealedSecret") {
			if other.Name == secret {
				return []Finding{c.findingAt(ix, o, []string{"spec", "imagePullSecret"}, "imagePullSecret %q is a SealedSecret deployed in namespace %s, not in the plugin's namespace %s: the pull would be unauthenticated", secret, other.Namespace, o.Namespace)}
			}
		}
		for _, other := range ix.Kind("Secret") {
			if other.Name == secret {
				return []Finding{c.findingAt(ix, o, []string{"spec", "imagePullSecret"}, "imagePullSecret %q is deployed in namespace %s, not in the plugin's namespace %s: the pull would be unauthenticated", secret, other.Namespace, o.Namespace)}
			}
		}
		return nil // managed outside this repository
	}
	if t := str(s.Content, "type"); t != "kubernetes.io/dockerconfigjson" {
		return []Finding{c.findingAt(ix, o, []string{"spec", "imagePullSecret"}, "imagePullSecret %q is a Secret of type %q; Istio needs type kubernetes.io/dockerconfigjson", secret, t)}
	}
	return nil
}

// sealedSecret returns the bitnami.com SealedSecret that unseals into the
// Secret namespace/name, or nil.
func sealedSecret(ix *index.Index, namespace, name string) *index.Object {
	for _, o := range ix.GroupKind("bitnami.com", "SealedSecret") {
		if o.Namespace == namespace && o.Name == name {
			return o
		}
	}
	return nil
}
