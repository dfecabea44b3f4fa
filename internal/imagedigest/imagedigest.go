// Package imagedigest asks a registry which digest a tag points at, the way
// `crane digest` and `docker buildx imagetools inspect` answer it: the
// digest of the manifest (or index) the registry serves for the tag, with
// the credentials docker uses.
package imagedigest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Timeout bounds one resolution, retries included: a registry that does
// not answer in that time is unreachable.
const Timeout = 30 * time.Second

// Resolve returns the digest ("sha256:...") that repository:tag points at.
// repository is host[:port]/path, with or without oci://. Credentials come
// from authn.DefaultKeychain: the Docker config ($DOCKER_CONFIG or
// ~/.docker/config.json, its credential helpers included), as docker pull
// reads them. A registry on localhost, a loopback address, a .local name or
// a private (RFC 1918) address is reached over plain HTTP, as
// go-containerregistry's name.Registry.Scheme decides; any other over HTTPS.
// The error is one line naming the image.
func Resolve(ctx context.Context, repository, tag string) (string, error) {
	image := strings.TrimPrefix(repository, "oci://") + ":" + tag
	ref, err := name.NewTag(image, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("image %s: %s", image, oneLine(err))
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		// Two quick retries, not the default backoff: an unreachable
		// registry should be said in seconds.
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Steps: 2}),
	}
	// HEAD first, as crane digest does: it costs no manifest download and
	// Docker Hub does not count it against the pull rate limit. Some
	// registries do not answer HEAD on manifests: then GET.
	desc, err := remote.Head(ref, opts...)
	if err == nil {
		return desc.Digest.String(), nil
	}
	got, getErr := remote.Get(ref, opts...)
	if getErr != nil {
		return "", fmt.Errorf("cannot resolve the digest of %s: %s", image, oneLine(getErr))
	}
	return got.Digest.String(), nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
