package check

import (
	"fmt"
	"path"
	"strings"

	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
)

// OverlayPinsBaseImages requires each overlay to pin every image of its bases.
var OverlayPinsBaseImages = catalogued("IMG002")

// overlayImages returns the names an overlay's images: list pins, as they
// appear after the transform (newName when set, else name), and the entries
// for oci:// images that lack newName.
func overlayImages(ix *index.Index, tree *render.Tree) (pinned map[string]bool, noNewName []string) {
	pinned = map[string]bool{}
	k := render.ReadKustomization(tree, render.KustomizationFile(tree, ix.Target.Dir))
	if k == nil {
		return pinned, nil
	}
	for _, img := range k.Images {
		if strings.Contains(img.Name, "://") && img.NewName == "" {
			noNewName = append(noNewName, img.Name)
		}
		if img.NewTag == "" && img.Digest == "" {
			continue // renames at most: pins nothing
		}
		if img.NewName != "" {
			pinned[img.NewName] = true
		} else {
			pinned[img.Name] = true
		}
	}
	return pinned, noNewName
}

func overlayPinsBaseImages(ix *index.Index, env *Env) []Finding {
	c := OverlayPinsBaseImages
	// The overlays, as plain targets or as the paths entry points apply:
	// the pins make bump and make promote edit. Another layout's folders
	// (a Flux apps/staging) pin as their team chooses.
	if ix.Target.Kind == render.Cluster || env.Tree == nil || !inOverlays(ix.Target.Dir) || render.KustomizationFile(env.Tree, ix.Target.Dir) == "" {
		return nil
	}
	pinned, noNewName := overlayImages(ix, env.Tree)
	fromBase := func(o *index.Object) bool { return !strings.HasPrefix(o.Source, ix.Target.Dir+"/") }
	kustomization := render.KustomizationFile(env.Tree, ix.Target.Dir)
	var out []Finding
	for _, n := range noNewName {
		out = append(out, Finding{Code: c.Code, Severity: c.Severity, Target: ix.Target.ID(), File: kustomization, Line: ix.ImageLine(kustomization, n),
			Message: fmt.Sprintf("images: entry %q sets no newName: behind the oci:// scheme Kustomize misreads a registry port as the tag (oci://localhost:v2); repeat the full reference in newName", n)})
	}
	report := func(o *index.Object, what, image string) {
		out = append(out, c.findingImage(ix, o, kustomization, "", "%s %q comes from a base but this overlay does not pin %s in images:; add an entry so rollouts stay overlay edits", what, image, imageName(image)))
	}
	for _, w := range ix.Workloads("") {
		if !fromBase(w.Object) {
			continue
		}
		for _, ctr := range containers(w.Template.Spec) {
			if !pinned[imageName(ctr.Image)] {
				report(w.Object, "container "+ctr.Name+" image", ctr.Image)
			}
		}
	}
	for _, p := range ix.WasmPlugins() {
		// An oci:// entry without newName mangles the url: the finding above names the cause.
		if url := p.Spec.GetUrl(); fromBase(p.Object) && len(noNewName) == 0 && strings.HasPrefix(url, "oci://") && !pinned[imageName(url)] {
			report(p.Object, "plugin url", url)
		}
	}
	return out
}

func init() {
	OverlayPinsBaseImages.Target = overlayPinsBaseImages
}

// inOverlays reports whether dir is an environment of this repository's own
// layout, overlays/<env>: the layout IMG002 and IMG003 are the policy of.
func inOverlays(dir string) bool { return path.Dir(dir) == "overlays" }
