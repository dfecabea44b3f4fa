package check

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/google/go-containerregistry/pkg/name"

	"meshops.dev/meshops/validate/index"
)

// PinnedImages requires every container image to be pinned.
var PinnedImages = catalogued("IMG001")

func containers(spec corev1.PodSpec) []corev1.Container {
	all := append([]corev1.Container{}, spec.InitContainers...)
	return append(all, spec.Containers...)
}

func pinnedImages(ix *index.Index, _ *Env) []Finding {
	c := PinnedImages
	var out []Finding
	for _, w := range ix.Workloads("") {
		for _, ctr := range containers(w.Template.Spec) {
			ref, err := name.ParseReference(ctr.Image)
			file := ix.ImageSource(imageName(ctr.Image))
			switch {
			case err != nil:
				out = append(out, c.findingImage(ix, w.Object, file, imageName(ctr.Image), "container %q image %q is not a valid image reference: %v", ctr.Name, ctr.Image, err))
			case !hasExplicitTag(ctr.Image):
				out = append(out, c.findingImage(ix, w.Object, file, imageName(ctr.Image), "container %q image %q has no tag or digest: pin one in the overlay's images: list", ctr.Name, ctr.Image))
			case ref.Identifier() == "latest":
				out = append(out, c.findingImage(ix, w.Object, file, imageName(ctr.Image), "container %q image %q uses the latest tag: pin a version", ctr.Name, ctr.Image))
			}
		}
	}
	return out
}

// imageName strips the tag and digest from an image reference, keeping a
// scheme such as oci:// and a registry port.
func imageName(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndexByte(image, ':'); i > slash {
		image = image[:i]
	}
	return image
}

func init() {
	PinnedImages.Target = pinnedImages
}
