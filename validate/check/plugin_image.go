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
var PluginImage = &Check{
	Code:     "WP004",
	Name:     "wasmplugin-url-scheme",
	Severity: Error,
	Summary:  "a WasmPlugin url has an explicit scheme: oci://, http(s):// or file://",
	Rationale: "Without a scheme Istio guesses: `localhost:5000/x:v1` is read as scheme `localhost` and rejected, and Kustomize's image " +
		"transformer needs the oci:// form to pin the plugin.",
}

// PluginImageReference catches an oci:// url that is no image reference.
var PluginImageReference = &Check{
	Code:      "WP006",
	Name:      "wasmplugin-image-reference",
	Severity:  Error,
	Summary:   "an oci:// WasmPlugin url is a valid image reference",
	Rationale: "Istio's fetcher parses the url with go-containerregistry; a reference it cannot parse never loads, and the plugin fails open or closed.",
}

// PluginImagePin catches an OCI plugin image that is not pinned.
var PluginImagePin = &Check{
	Code:     "WP007",
	Name:     "wasmplugin-image-pin",
	Severity: Error,
	Summary:  "an oci:// WasmPlugin url is pinned by a tag other than latest, or by a digest",
	Rationale: "An untagged or latest image is not a GitOps pin: what runs changes without a commit, and Istio then defaults " +
		"imagePullPolicy to Always, pulling on every configuration change.",
}

// PluginImageDigest catches a url digest that disagrees with spec.sha256.
var PluginImageDigest = &Check{
	Code:      "WP008",
	Name:      "wasmplugin-sha256-mismatch",
	Severity:  Error,
	Summary:   "a WasmPlugin's spec.sha256 agrees with its url's digest",
	Rationale: "Istio checks the fetched module against spec.sha256; a digest that disagrees makes every fetch fail.",
}

// PluginPullSecret checks a WasmPlugin's imagePullSecret.
var PluginPullSecret = &Check{
	Code:     "WP009",
	Name:     "wasmplugin-pull-secret",
	Severity: Error,
	Summary:  "a WasmPlugin's imagePullSecret, when the repository deploys it, is a kubernetes.io/dockerconfigjson Secret in the plugin's namespace",
	Rationale: "Istio reads the pull secret from the plugin's namespace and only as a docker config; any other Secret makes the " +
		"pull unauthenticated, which a private registry refuses.",
}

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
