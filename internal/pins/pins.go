// Package pins reads and edits the images: list of an overlay's
// kustomization.yaml in place: the entry that changes is the only text that
// changes; comments, key order, quoting and every other entry stay byte for
// byte (kustomize edit set image would rewrite the whole file).
package pins

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	yaml "go.yaml.in/yaml/v3"
)

// Pin is one images: entry.
type Pin struct {
	Name    string // the image as the bases reference it
	NewName string
	NewTag  string
	Digest  string
}

// Ref is the image the entry renders, as Kustomize writes it (name:tag@digest
// when both are set).
func (p Pin) Ref() string {
	n := p.Name
	if p.NewName != "" {
		n = p.NewName
	}
	if p.NewTag != "" {
		n += ":" + p.NewTag
	}
	if p.Digest != "" {
		n += "@" + p.Digest
	}
	return n
}

// field is one key of an entry with its position in the file.
type field struct {
	key, value *yaml.Node
}

// entry is one images: item with its fields, as parsed.
type entry struct {
	Pin
	node   *yaml.Node
	fields map[string]field
}

// File is a kustomization.yaml whose images: list can be edited in place.
type File struct {
	Path    string
	src     []byte
	entries []entry
	images  *yaml.Node // the images: sequence, or nil
}

// Parse reads the images: list of a kustomization file's bytes.
func Parse(path string, src []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &File{Path: path, src: src}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a kustomization (expected a YAML mapping)", path)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "images" {
			continue
		}
		seq := root.Content[i+1]
		if seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 {
			return nil, fmt.Errorf("%s: images: must be a block list (one '- name: ...' entry per image)", path)
		}
		f.images = seq
		for j, item := range seq.Content {
			if item.Kind != yaml.MappingNode || item.Style&yaml.FlowStyle != 0 {
				return nil, fmt.Errorf("%s: images[%d] must be a block mapping (name:, newTag: ... on their own lines)", path, j)
			}
			e := entry{node: item, fields: map[string]field{}}
			for k := 0; k+1 < len(item.Content); k += 2 {
				key, val := item.Content[k], item.Content[k+1]
				if val.Kind != yaml.ScalarNode || strings.Contains(val.Value, "\n") {
					return nil, fmt.Errorf("%s: images[%d].%s must be a single-line value", path, j, key.Value)
				}
				e.fields[key.Value] = field{key, val}
				switch key.Value {
				case "name":
					e.Name = val.Value
				case "newName":
					e.NewName = val.Value
				case "newTag":
					e.NewTag = val.Value
				case "digest":
					e.Digest = val.Value
				}
			}
			if e.Name == "" {
				return nil, fmt.Errorf("%s: images[%d] has no name", path, j)
			}
			f.entries = append(f.entries, e)
		}
	}
	return f, nil
}

// Pins lists the entries in file order.
func (f *File) Pins() []Pin {
	out := make([]Pin, len(f.entries))
	for i, e := range f.entries {
		out[i] = e.Pin
	}
	return out
}

// Bytes returns the file's current contents.
func (f *File) Bytes() []byte { return f.src }

// Find returns the entry for image: its name, its newName, or the last path
// element of either when that is unambiguous ("nginx-unprivileged").
func (f *File) Find(image string) (Pin, error) {
	i, err := f.find(image)
	if err != nil {
		return Pin{}, err
	}
	return f.entries[i].Pin, nil
}

func (f *File) find(image string) (int, error) {
	image = strings.TrimSuffix(image, "/")
	var matches []int
	for i, e := range f.entries {
		if e.Name == image || e.NewName == image {
			return i, nil
		}
		if base(e.Name) == image || (e.NewName != "" && base(e.NewName) == image) {
			matches = append(matches, i)
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	var names []string
	for _, e := range f.entries {
		names = append(names, e.Name)
	}
	if len(matches) > 1 {
		return 0, fmt.Errorf("%s: image %q matches several entries; use the full name (one of %s)", f.Path, image, strings.Join(names, ", "))
	}
	return 0, fmt.Errorf("%s: no images: entry for %q (entries: %s)", f.Path, image, strings.Join(names, ", "))
}

func base(n string) string { return n[strings.LastIndex(n, "/")+1:] }

var (
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// CheckTag refuses what no registry accepts as a tag, and latest.
func CheckTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("tag %q is not a valid image tag (letters, digits, _ . -; at most 128; not starting with . or -)", tag)
	}
	if tag == "latest" {
		return fmt.Errorf("tag latest is no pin: name a version")
	}
	return nil
}

// CheckDigest refuses anything but a sha256 digest.
func CheckDigest(digest string) error {
	if !digestPattern.MatchString(digest) {
		return fmt.Errorf("digest %q is not of the form sha256:<64 lowercase hex digits>", digest)
	}
	if _, err := name.NewDigest("example.com/image@" + digest); err != nil {
		return fmt.Errorf("digest %q: %w", digest, err)
	}
	return nil
}

// Set pins image to tag and/or digest the way kustomize edit set image does:
// a tag alone drops a stale digest, a digest alone drops the tag. An oci://
// entry without newName gets one, so registries with a port render right.
// It returns the entry before and after.
func (f *File) Set(image, tag, digest string) (before, after Pin, err error) {
	if tag == "" && digest == "" {
		return Pin{}, Pin{}, fmt.Errorf("give a tag, a digest, or both")
	}
	if tag != "" {
		if err := CheckTag(tag); err != nil {
			return Pin{}, Pin{}, err
		}
	}
	if digest != "" {
		if err := CheckDigest(digest); err != nil {
			return Pin{}, Pin{}, err
		}
	}
	i, err := f.find(image)
	if err != nil {
		return Pin{}, Pin{}, err
	}
	return f.pin(i, tag, digest)
}

// pin sets entry i's newTag and digest to exactly tag and digest ("" removes).
func (f *File) pin(i int, tag, digest string) (before, after Pin, err error) {
	before = f.entries[i].Pin
	want := map[string]string{"newTag": tag, "digest": digest}
	if strings.Contains(before.Name, "://") && before.NewName == "" {
		want["newName"] = before.Name
	}
	e := f.entries[i]
	var edits []edit
	var inserts []string
	for _, key := range []string{"newName", "newTag", "digest"} {
		val, set := want[key]
		if !set {
			continue
		}
		fld, exists := e.fields[key]
		switch {
		case exists && val == "":
			edits = append(edits, deleteLine(fld.key.Line))
		case exists && fld.value.Value != val:
			edits = append(edits, replaceScalar(f.src, fld.value, val))
		case !exists && val != "":
			inserts = append(inserts, key+": "+val)
		}
	}
	if len(inserts) > 0 {
		edits = append(edits, insertAfter(f.src, e.node, inserts))
	}
	src, err := applyEdits(f.src, edits)
	if err != nil {
		return Pin{}, Pin{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	nf, err := Parse(f.Path, src)
	if err != nil {
		return Pin{}, Pin{}, fmt.Errorf("%s: edit produced invalid YAML: %w", f.Path, err)
	}
	*f = *nf
	after = f.entries[i].Pin
	return before, after, nil
}

// edit replaces bytes [start, end) of the source with text.
type edit struct {
	start, end int
	text       string
}

// lineOffsets returns the byte offset of the start of each 1-based line.
func lineStart(src []byte, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return off
}

func lineEnd(src []byte, start int) int {
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		return start + i + 1
	}
	return len(src)
}

func deleteLine(line int) edit { return edit{start: -line} } // resolved in applyEdits

// replaceScalar rewrites one single-line scalar token, keeping its quoting
// style and whatever follows it on the line (a comment).
func replaceScalar(src []byte, n *yaml.Node, value string) edit {
	start := lineStart(src, n.Line) + n.Column - 1
	end := lineEnd(src, start)
	rest := string(src[start:end])
	var tokenLen int
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := rest[0]
		tokenLen = 1 + strings.IndexByte(rest[1:], q) + 1
		value = string(q) + value + string(q)
	default:
		tokenLen = len(strings.TrimRight(strings.SplitN(strings.TrimRight(rest, "\n"), " #", 2)[0], " \t"))
	}
	return edit{start: start, end: start + tokenLen, text: value}
}

// insertAfter adds lines at the end of a block mapping, indented like its keys.
func insertAfter(src []byte, item *yaml.Node, lines []string) edit {
	last := item.Content[len(item.Content)-1]
	pos := lineEnd(src, lineStart(src, last.Line))
	indent := strings.Repeat(" ", item.Content[0].Column-1)
	var b strings.Builder
	if pos > 0 && src[pos-1] != '\n' {
		b.WriteString("\n")
	}
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return edit{start: pos, end: pos, text: b.String()}
}

func applyEdits(src []byte, edits []edit) ([]byte, error) {
	for i := range edits {
		if edits[i].start < 0 { // delete a whole line
			start := lineStart(src, -edits[i].start)
			edits[i] = edit{start: start, end: lineEnd(src, start)}
		}
	}
	// Apply from the end so earlier offsets stay valid.
	for i := 0; i < len(edits); i++ {
		for j := i + 1; j < len(edits); j++ {
			if edits[j].start > edits[i].start {
				edits[i], edits[j] = edits[j], edits[i]
			}
		}
	}
	out := append([]byte(nil), src...)
	for _, e := range edits {
		if e.start > e.end || e.end > len(out) {
			return nil, fmt.Errorf("internal edit out of range")
		}
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, nil
}

// Change is one entry a promotion changed or added.
type Change struct {
	Before, After Pin
	Added         bool
	// Resolved says that After.Digest came from PromoteOptions.Resolve:
	// the target pins the image by digest and the source by tag only.
	Resolved bool
}

// PromoteOptions say which of the source's pins a promotion copies, and
// where a digest the source lacks comes from.
type PromoteOptions struct {
	// Renders reports whether the target environment renders the image of
	// a source entry; the entries it does not are skipped (returned, not
	// copied). nil copies every entry.
	Renders func(Pin) bool
	// Resolve returns the digest of a source entry's tag, for an entry the
	// target pins by digest (its entry has one) while the source pins a
	// different tag without a digest. nil refuses such a promotion.
	Resolve func(Pin) (string, error)
}

// Promote copies every pin of from (tag and digest) that the target
// renders onto the entry of the same name in f, and appends the entries f
// lacks. Entries only f has stay. Where f pins an image by digest and from
// by tag only, the digest is the one opts.Resolve gives for from's tag; the
// same tag keeps f's digest (f already runs that tag, by content). It
// returns the changes and the entries skipped because f does not render
// their image.
func (f *File) Promote(from *File, opts PromoteOptions) (changes []Change, skipped []Pin, err error) {
	if f.images == nil {
		return nil, nil, fmt.Errorf("%s: no images: list to promote into", f.Path)
	}
	for _, src := range from.entries {
		if src.NewTag == "" && src.Digest == "" {
			continue
		}
		if opts.Renders != nil && !opts.Renders(src.Pin) {
			skipped = append(skipped, src.Pin)
			continue
		}
		i := -1
		for j, e := range f.entries {
			if e.Name == src.Name {
				i = j
			}
		}
		if i < 0 {
			if err := f.appendEntry(from, src); err != nil {
				return nil, nil, err
			}
			changes = append(changes, Change{After: src.Pin, Added: true})
			continue
		}
		tag, digest, resolved := src.NewTag, src.Digest, false
		if cur := f.entries[i].Pin; digest == "" && tag != "" && cur.Digest != "" {
			if tag == cur.NewTag {
				continue
			}
			if opts.Resolve == nil {
				return nil, nil, fmt.Errorf("%s pins %s by digest and %s pins tag %s only: give its digest", f.Path, cur.Name, from.Path, tag)
			}
			if digest, err = opts.Resolve(src.Pin); err != nil {
				return nil, nil, err
			}
			if err := CheckDigest(digest); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", src.Name, err)
			}
			resolved = true
		}
		if f.entries[i].NewTag == tag && f.entries[i].Digest == digest {
			continue
		}
		before, after, err := f.pin(i, tag, digest)
		if err != nil {
			return nil, nil, err
		}
		changes = append(changes, Change{Before: before, After: after, Resolved: resolved})
	}
	return changes, skipped, nil
}

// appendEntry copies src's lines from its file to the end of f's images:
// list, re-indented to f's list indentation.
func (f *File) appendEntry(from *File, src entry) error {
	first := lineStart(from.src, src.node.Line)
	last := src.node.Content[len(src.node.Content)-1]
	end := lineEnd(from.src, lineStart(from.src, last.Line))
	text := string(from.src[first:end])
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	// The "- " of the item sits two columns before its first key in both files.
	shift := (f.images.Content[0].Column) - src.node.Column
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		switch {
		case shift > 0:
			l = strings.Repeat(" ", shift) + l
		case shift < 0:
			l = l[min(-shift, len(l)-len(strings.TrimLeft(l, " "))):]
		}
		b.WriteString(l)
	}
	lastItem := f.images.Content[len(f.images.Content)-1]
	lastVal := lastItem.Content[len(lastItem.Content)-1]
	pos := lineEnd(f.src, lineStart(f.src, lastVal.Line))
	prefix := ""
	if pos > 0 && f.src[pos-1] != '\n' {
		prefix = "\n"
	}
	src2, err := applyEdits(f.src, []edit{{start: pos, end: pos, text: prefix + b.String()}})
	if err != nil {
		return err
	}
	nf, err := Parse(f.Path, src2)
	if err != nil {
		return fmt.Errorf("%s: promotion produced invalid YAML: %w", f.Path, err)
	}
	*f = *nf
	return nil
}
