package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path"
	"strings"

	"meshops.dev/meshops/internal/imagedigest"
	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// promote copies the pins of one overlay onto another: only the images the
// target renders (the others are listed and left), and, where the target
// pins an image by digest and the source by tag only, with the digest the
// registry gives for the source's tag (or --digest).
func promote(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	repo := repoFlag(fs)
	from := fs.String("from", "", "the environment to copy pins from")
	to := fs.String("to", "", "the environment to copy pins to")
	digest := fs.String("digest", "", "the digest to pin instead of asking the registry (sha256:...), for the one image the target pins by digest and the source by tag")
	if !parse(fs, args, stderr) {
		return 2
	}
	if *from == "" || *to == "" || *from == *to {
		fmt.Fprintln(stderr, "rollout promote: --from and --to must name two environments (make promote FROM=dev TO=staging)")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rollout promote: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return 2
	}
	if *digest != "" {
		if err := pins.CheckDigest(*digest); err != nil {
			return fail(err)
		}
	}
	fromFile, err := overlayFile(*repo, *from)
	if err != nil {
		return fail(err)
	}
	tree, target, toFile, err := overlay(*repo, *to)
	if err != nil {
		return fail(err)
	}
	src, err := readPins(fromFile)
	if err != nil {
		return fail(err)
	}
	dst, err := readPins(toFile)
	if err != nil {
		return fail(err)
	}
	rendered, err := renderedImages(tree, target)
	if err != nil {
		return fail(fmt.Errorf("render overlays/%s to see which images it runs: %w", *to, err))
	}
	original := append([]byte(nil), dst.Bytes()...)
	var resolved []string
	changes, skipped, err := dst.Promote(src, pins.PromoteOptions{
		Renders: func(p pins.Pin) bool {
			if rendered[p.Name] || p.NewName != "" && rendered[p.NewName] {
				return true
			}
			// The target renames the image itself (its own newName).
			for _, q := range dst.Pins() {
				if q.Name == p.Name && q.NewName != "" && rendered[q.NewName] {
					return true
				}
			}
			return false
		},
		Resolve: func(p pins.Pin) (string, error) {
			repository := p.Name
			if p.NewName != "" {
				repository = p.NewName
			}
			resolved = append(resolved, repository+":"+p.NewTag)
			if *digest != "" {
				if len(resolved) > 1 {
					return "", fmt.Errorf("--digest names one digest, but %s pins several images by digest that %s pins by tag only (%s): drop DIGEST= to ask the registry for each", *to, *from, strings.Join(resolved, ", "))
				}
				return *digest, nil
			}
			d, err := imagedigest.Resolve(context.Background(), repository, p.NewTag)
			if err != nil {
				return "", fmt.Errorf("%w (%s pins %s by digest; give it with DIGEST=sha256:...)", err, *to, p.Name)
			}
			return d, nil
		},
	})
	if err != nil {
		return fail(err)
	}
	if *digest != "" && len(resolved) == 0 {
		return fail(fmt.Errorf("--digest %s: no image needs one (%s pins no image by digest that %s pins by a new tag only)", *digest, *to, *from))
	}
	for _, p := range skipped {
		fmt.Fprintf(stdout, "%s: %s not promoted: %s does not render %s\n", fromFile, p.Ref(), *to, p.Name)
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s already runs what %s runs\n", *to, *from)
		return 0
	}
	for _, c := range changes {
		switch {
		case c.Added:
			fmt.Fprintf(stdout, "%s: %s (added)\n", toFile, c.After.Ref())
		case c.Resolved && *digest != "":
			fmt.Fprintf(stdout, "%s: %s -> %s (digest given with --digest)\n", toFile, c.Before.Ref(), c.After.Ref())
		case c.Resolved:
			fmt.Fprintf(stdout, "%s: %s -> %s (digest of tag %s, from the registry)\n", toFile, c.Before.Ref(), c.After.Ref(), c.After.NewTag)
		default:
			fmt.Fprintf(stdout, "%s: %s -> %s\n", toFile, c.Before.Ref(), c.After.Ref())
		}
	}
	return commit(*repo, path.Join("overlays", *to), dst, original, stdout, stderr)
}

// renderedImages returns the names (without tag or digest) of the images
// the target renders, as GO007 reads them (check.RenderedImages): every
// image field and every WasmPlugin url.
func renderedImages(tree *render.Tree, target render.Target) (map[string]bool, error) {
	res, err := kustomize.Render(tree, target)
	if err != nil {
		return nil, err
	}
	return check.RenderedImages(index.New(res)), nil
}
