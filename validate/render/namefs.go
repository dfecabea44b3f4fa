package render

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// nameFS lets the tree hold any file name git can: Kustomize's in-memory
// file system (kyaml filesys/fsnode.go, isLegalFileNameForCreation) refuses
// every path element outside [a-zA-Z0-9-_.:], so "blog config.yaml" or
// "überblick.yaml" could not be rendered, while kustomize build, Flux and
// Argo CD, reading a checkout on disk, accept them. nameFS stores such an
// element hex-encoded behind a "::" marker (also any element that starts
// with the marker, so the encoding is one-to-one) and decodes every name,
// path and error message it returns: Kustomize sees the real names.
type nameFS struct {
	inner filesys.FileSystem
}

// legalElement is kyaml's legalFileNamePattern.
var legalElement = regexp.MustCompile(`^[a-zA-Z0-9-_.:]+$`)

const nameMarker = "::"

func encodeElement(e string) string {
	if e == "" || e == "." || e == ".." || (legalElement.MatchString(e) && !strings.HasPrefix(e, nameMarker)) {
		return e
	}
	return nameMarker + hex.EncodeToString([]byte(e))
}

func decodeElement(e string) string {
	if rest, ok := strings.CutPrefix(e, nameMarker); ok {
		if b, err := hex.DecodeString(rest); err == nil {
			return string(b)
		}
	}
	return e
}

func mapPath(p string, f func(string) string) string {
	parts := strings.Split(p, string(filepath.Separator))
	for i, e := range parts {
		parts[i] = f(e)
	}
	return strings.Join(parts, string(filepath.Separator))
}

func encodePath(p string) string { return mapPath(p, encodeElement) }
func decodePath(p string) string { return mapPath(p, decodeElement) }

// encodedInText matches an encoded element inside a message.
var encodedInText = regexp.MustCompile(nameMarker + `(?:[0-9a-f]{2})+`)

// decodedError is an error of the inner file system with its message
// decoded; errors.Is and errors.As still see the original.
type decodedError struct{ err error }

func (e *decodedError) Error() string {
	return encodedInText.ReplaceAllStringFunc(e.err.Error(), decodeElement)
}
func (e *decodedError) Unwrap() error { return e.err }

func decodeErr(err error) error {
	if err == nil || !encodedInText.MatchString(err.Error()) {
		return err
	}
	return &decodedError{err: err}
}

// decodedInfo reports the decoded base name.
type decodedInfo struct{ fs.FileInfo }

func (i decodedInfo) Name() string { return decodeElement(i.FileInfo.Name()) }

// decodedFile reports the decoded base name from Stat.
type decodedFile struct{ filesys.File }

func (f decodedFile) Stat() (fs.FileInfo, error) {
	info, err := f.File.Stat()
	if err != nil {
		return nil, decodeErr(err)
	}
	return decodedInfo{info}, nil
}

func (n nameFS) Create(p string) (filesys.File, error) {
	f, err := n.inner.Create(encodePath(p))
	if err != nil {
		return nil, decodeErr(err)
	}
	return decodedFile{f}, nil
}

func (n nameFS) Mkdir(p string) error     { return decodeErr(n.inner.Mkdir(encodePath(p))) }
func (n nameFS) MkdirAll(p string) error  { return decodeErr(n.inner.MkdirAll(encodePath(p))) }
func (n nameFS) RemoveAll(p string) error { return decodeErr(n.inner.RemoveAll(encodePath(p))) }
func (n nameFS) IsDir(p string) bool      { return n.inner.IsDir(encodePath(p)) }
func (n nameFS) Exists(p string) bool     { return n.inner.Exists(encodePath(p)) }

func (n nameFS) Open(p string) (filesys.File, error) {
	f, err := n.inner.Open(encodePath(p))
	if err != nil {
		return nil, decodeErr(err)
	}
	return decodedFile{f}, nil
}

func (n nameFS) ReadDir(p string) ([]string, error) {
	names, err := n.inner.ReadDir(encodePath(p))
	if err != nil {
		return nil, decodeErr(err)
	}
	for i, name := range names {
		names[i] = decodeElement(name)
	}
	return names, nil
}

func (n nameFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	d, f, err := n.inner.CleanedAbs(encodePath(p))
	if err != nil {
		return "", "", decodeErr(err)
	}
	return filesys.ConfirmedDir(decodePath(string(d))), decodeElement(f), nil
}

// Glob encodes the elements of pattern that hold no pattern syntax.
func (n nameFS) Glob(pattern string) ([]string, error) {
	enc := mapPath(pattern, func(e string) string {
		if strings.ContainsAny(e, `*?[\`) {
			return e
		}
		return encodeElement(e)
	})
	matches, err := n.inner.Glob(enc)
	if err != nil {
		return nil, decodeErr(err)
	}
	for i, m := range matches {
		matches[i] = decodePath(m)
	}
	return matches, nil
}

func (n nameFS) ReadFile(p string) ([]byte, error) {
	data, err := n.inner.ReadFile(encodePath(p))
	return data, decodeErr(err)
}

func (n nameFS) WriteFile(p string, data []byte) error {
	return decodeErr(n.inner.WriteFile(encodePath(p), data))
}

func (n nameFS) Walk(p string, walkFn filepath.WalkFunc) error {
	err := n.inner.Walk(encodePath(p), func(path string, info fs.FileInfo, err error) error {
		if info != nil {
			info = decodedInfo{info}
		}
		return walkFn(decodePath(path), info, decodeErr(err))
	})
	if errors.Is(err, filepath.SkipDir) || errors.Is(err, filepath.SkipAll) {
		return err
	}
	return decodeErr(err)
}

var _ filesys.FileSystem = nameFS{}
