package check

import (
	"bufio"
	"bytes"
	"path"
	"sort"
	"strings"

	"meshops.dev/meshops/validate/render"
)

// PluginDigest requires the environments past dev to pin the plugin by digest.
var PluginDigest = &Check{
	Code:     "IMG003",
	Name:     "plugin-pinned-by-tag-only",
	Severity: Error,
	Summary:  "every environment a cluster syncs, except dev, pins its WasmPlugin's oci:// image by digest (newTag plus digest in the overlay's images:)",
	Rationale: "A tag is a name a registry lets anyone with push rights move: re-pushing v1.2.0 changes the module every Envoy of " +
		"staging and prod loads on its next fetch, with no change in Git. A digest is the content itself; Istio verifies the " +
		"module against it. dev follows tags so Renovate can bump it; make promote carries tag and digest to the next environment.",
}

func init() { PluginDigest.Repo = pluginDigest }

// devEnvironment is the one environment that may follow plugin tags.
const devEnvironment = "dev"

func pluginDigest(repo *Repo, _ *Env) []Finding {
	c := PluginDigest
	synced := map[string][]string{} // overlay dir -> entry point files that sync it
	for _, ep := range entryPoints(repo) {
		synced[ep.path] = append(synced[ep.path], ep.obj.Source)
	}
	var out []Finding
	done := map[string]bool{}
	for _, ix := range repo.Targets {
		dir := ix.Target.Dir
		// An overlay, or what an entry point applies: once per directory.
		if ix.Target.Kind == render.Cluster || done[dir] || len(synced[dir]) == 0 || path.Base(dir) == devEnvironment {
			continue
		}
		done[dir] = true
		by := synced[dir]
		sort.Strings(by)
		for _, p := range ix.WasmPlugins() {
			o, url := p.Object, p.Spec.GetUrl()
			if !strings.HasPrefix(url, "oci://") || strings.Contains(url, "@sha256:") {
				continue
			}
			image := imageName(url)
			f := c.finding(ix, o, "%s pins the plugin %s by tag only and is synced by %s: a re-pushed tag would change what Envoy runs; "+
				"add the pushed image's digest to the images: entry (make push prints it; make bump ENV=%s IMAGE=%s TAG=<tag> DIGEST=sha256:...)",
				dir, url, strings.Join(by, ", "), path.Base(dir), image)
			f.Target = dir // the overlay, whichever entry point's render found it
			if file := ix.ImageSource(image); file != "" {
				f.File, f.Line = file, imageEntryLine(repo.Tree, file, image)
			} else if file := ix.FieldSource(o, "spec", "url"); file != "" && file != f.File {
				f.File, f.Line = file, ix.Line(file, o)
			}
			out = append(out, f)
		}
	}
	return out
}

// imageEntryLine returns the line of the images: entry of file that names
// image (its name: or newName:), or 0.
func imageEntryLine(tree *render.Tree, file, image string) int {
	if tree == nil {
		return 0
	}
	data, err := tree.ReadFile(file)
	if err != nil {
		return 0
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	line, inImages := 0, false
	for s.Scan() {
		line++
		text := s.Text()
		if !strings.HasPrefix(text, " ") && !strings.HasPrefix(text, "-") && strings.TrimSpace(text) != "" {
			inImages = strings.HasPrefix(text, "images:")
			continue
		}
		field := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "- "))
		for _, key := range []string{"newName:", "name:"} {
			if v, ok := strings.CutPrefix(field, key); inImages && ok && strings.Trim(strings.TrimSpace(v), `"'`) == image {
				return line
			}
		}
	}
	return 0
}
