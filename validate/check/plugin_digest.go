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
var PluginDigest = catalogued("IMG003")

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
		// An overlay, plain or as an entry point applies it: once per
		// directory. Only overlays/<env>: the policy of this layout.
		if ix.Target.Kind == render.Cluster || !inOverlays(dir) || done[dir] || len(synced[dir]) == 0 || path.Base(dir) == devEnvironment {
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
