package render

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Tree is a read-only, in-memory copy of a repository. Rendering from memory
// keeps the validator offline and deterministic, never writes to the work
// tree, and lets the same code render a git revision that is not checked out.
type Tree struct {
	// Root is where the repository is mounted in memory.
	Root string
	// Dir names the repository in messages (its path on disk, or a revision).
	Dir string
	fs  filesys.FileSystem
	// memo holds what was parsed from a file, by path and purpose, until
	// Add replaces the file: every target that includes a base reads it.
	mu   sync.Mutex
	memo map[string]map[string]any
	// artifactOf is the tree this one was filtered from, as source-controller
	// packs a GitRepository artifact (Filter), and dropped lists the
	// repository-relative files the filter left out.
	artifactOf *Tree
	dropped    []string
	// gen counts the Adds; scanned is the layout scanned at generation
	// scanned.gen (scanLayout), for the callers that ask before the next Add.
	gen     int
	scanned *scannedLayout
}

// Memo returns what compute derives from file rel for purpose, computing
// it once per content of the file. It is safe for concurrent use.
func (t *Tree) Memo(rel, purpose string, compute func() any) any {
	if v, ok := t.Recall(rel, purpose); ok {
		return v
	}
	v := compute()
	t.Remember(rel, purpose, v)
	return v
}

// Recall returns what Remember stored for file rel and purpose, unless Add
// has replaced the file since. It is safe for concurrent use.
func (t *Tree) Recall(rel, purpose string) (any, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.memo[rel][purpose]
	return v, ok
}

// Remember stores v for file rel and purpose, for Recall and Memo, until
// Add replaces the file. It is safe for concurrent use.
func (t *Tree) Remember(rel, purpose string, v any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.memo == nil {
		t.memo = map[string]map[string]any{}
	}
	if t.memo[rel] == nil {
		t.memo[rel] = map[string]any{}
	}
	t.memo[rel][purpose] = v
}

// mountPoint is where every tree is mounted, whatever the checkout's real
// path: messages name files relative to it.
const mountPoint = "/repo"

// NewTree returns an empty tree, to be filled with Add; dir names it in messages.
func NewTree(dir string) *Tree {
	fsys := nameFS{inner: filesys.MakeFsInMemory()}
	_ = fsys.MkdirAll(mountPoint)
	return &Tree{Root: mountPoint, Dir: dir, fs: fsys}
}

// Add stores a file under its repository-relative path.
func (t *Tree) Add(rel string, data []byte) error {
	t.mu.Lock()
	delete(t.memo, rel)
	t.gen++
	t.mu.Unlock()
	return t.fs.WriteFile(t.Abs(rel), data)
}

// Abs returns the mounted path of a repository-relative path.
func (t *Tree) Abs(rel string) string { return filepath.Join(t.Root, filepath.FromSlash(rel)) }

// Rel returns the repository-relative, slash-separated form of a mounted path.
func (t *Tree) Rel(abs string) string {
	rel, err := filepath.Rel(t.Root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(rel)
}

// ReadFile returns a file's contents by repository-relative path.
func (t *Tree) ReadFile(rel string) ([]byte, error) { return t.fs.ReadFile(t.Abs(rel)) }

// IsDir reports whether rel is a directory of the tree.
func (t *Tree) IsDir(rel string) bool { return t.fs.IsDir(t.Abs(rel)) }

// Exists reports whether rel is a file or directory of the tree.
func (t *Tree) Exists(rel string) bool { return t.fs.Exists(t.Abs(rel)) }

// ReadDir lists the entries of a directory, sorted.
func (t *Tree) ReadDir(rel string) ([]string, error) {
	names, err := t.fs.ReadDir(t.Abs(rel))
	sort.Strings(names)
	return names, err
}

// FS is the file system the tree is mounted on (at Root): what Kustomize
// builds from. A build only reads it; NewReadLog records what it reads.
func (t *Tree) FS() filesys.FileSystem { return t.fs }

// files lists every file of the tree, repository-relative, except the
// validator's own in-memory additions.
func (t *Tree) files() []string { return t.FilesUnder(".") }

// FilesUnder lists the repository files below dir, repository-relative, in
// order, without the validator's in-memory additions (the folders whose name
// starts with .meshops-).
func (t *Tree) FilesUnder(dir string) []string {
	var out []string
	_ = t.fs.Walk(t.Abs(dir), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel := t.Rel(p)
		if info.IsDir() {
			if rel != "." && strings.HasPrefix(path.Base(rel), ".meshops-") {
				return filepath.SkipDir
			}
			return nil
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

// Shadow copies dir (files and subdirectories) to a sibling directory
// .meshops-<engine>-<n>-<base>, replacing its kustomization file by
// kfile/data, and returns the sibling's path: where an engine builds a path
// whose kustomization its options change, relative references still
// resolving. It writes to the tree: call it before any build starts.
func (t *Tree) Shadow(dir, engine string, n int, kfile string, data []byte) (string, error) {
	sib := path.Join(path.Dir(dir), fmt.Sprintf(".meshops-%s-%d-%s", engine, n, path.Base(dir)))
	for _, rel := range t.FilesUnder(dir) {
		sub := strings.TrimPrefix(rel, dir+"/")
		if !strings.Contains(sub, "/") && KustomizationFile(t, dir) == rel {
			continue // replaced below
		}
		b, err := t.ReadFile(rel)
		if err != nil {
			return "", err
		}
		if err := t.Add(path.Join(sib, sub), b); err != nil {
			return "", err
		}
	}
	return sib, t.Add(path.Join(sib, kfile), data)
}

// Filter returns a copy of the tree without the files drop reports, as
// source-controller packs a GitRepository artifact. The copy remembers the
// tree it was filtered from and the files it left out: Result.Share asks
// whether a build read any of them.
func (t *Tree) Filter(drop func(rel string) bool) (*Tree, error) {
	out := NewTree(t.Dir)
	out.artifactOf = t
	for _, rel := range t.files() {
		if drop(rel) {
			out.dropped = append(out.dropped, rel)
			continue
		}
		data, err := t.ReadFile(rel)
		if err != nil {
			return nil, err
		}
		if err := out.Add(rel, data); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadDir copies the repository at root into memory: every file git does
// not ignore (tracked or not), as Flux and Argo CD see a clone plus what a
// pull request adds; outside a git work tree, every file but .git. A
// symbolic link is followed only when its target stays inside the
// repository: Kustomize would follow it anywhere, and a pull request must
// not render files from outside.
func LoadDir(root string) (*Tree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", root, err)
	}
	if info, err := os.Stat(real); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("repository %s: not a directory", root)
	}
	files, err := listFiles(abs)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", root, err)
	}
	t := NewTree(root)
	for _, rel := range files {
		path := filepath.Join(abs, filepath.FromSlash(rel))
		info, err := os.Lstat(path)
		if err != nil {
			continue // tracked but deleted in the work tree
		}
		target := path
		if info.Mode()&fs.ModeSymlink != 0 {
			if target, err = filepath.EvalSymlinks(path); err != nil {
				return nil, fmt.Errorf("%s: broken symbolic link: %w", rel, err)
			}
			if inside, _ := filepath.Rel(real, target); inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("%s: symbolic link points outside the repository (to %s)", rel, target)
			}
			info, err := os.Stat(target)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			if info.IsDir() {
				if err := t.addLinkedDir(rel, target); err != nil {
					return nil, err
				}
				continue
			}
		} else if !info.Mode().IsRegular() {
			continue
		}
		if err := t.addFile(rel, target); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// listFiles returns the slash-separated paths below dir that git does not
// ignore (git ls-files --cached --others --exclude-standard), or, when dir
// is not in a git work tree, every file below it except .git.
func listFiles(dir string) ([]string, error) {
	cmd := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	if out, err := cmd.Output(); err == nil {
		var files []string
		seen := map[string]bool{}
		for _, p := range strings.Split(string(out), "\x00") {
			if p != "" && !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
		}
		sort.Strings(files)
		return files, nil
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

func (t *Tree) addFile(rel, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return t.Add(rel, data)
}

// addLinkedDir copies a symlinked directory's regular files under rel.
func (t *Tree) addLinkedDir(rel, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		sub, _ := filepath.Rel(dir, path)
		name := filepath.ToSlash(filepath.Join(rel, sub))
		if d.IsDir() || !d.Type().IsRegular() {
			if d.Type()&fs.ModeSymlink != 0 {
				return fmt.Errorf("%s: nested symbolic links are not followed", name)
			}
			return nil
		}
		return t.addFile(name, path)
	})
}
