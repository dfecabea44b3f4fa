package render

import (
	"path"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ReadLog is the file system a Kustomize build runs on, recording what the
// build saw of the tree: the files it read and the paths it found to exist,
// and the directories it listed. Two engines whose trees differ only in
// files a build never saw render the same resources (Result.Share).
type ReadLog struct {
	filesys.FileSystem
	tree *Tree

	mu     sync.Mutex
	seen   map[string]bool // files read, paths found to exist
	listed map[string]bool // directories listed
}

// NewReadLog returns t's file system, recording what a build reads of it;
// NewResult keeps the log with the build's result.
func NewReadLog(t *Tree) *ReadLog { return &ReadLog{FileSystem: t.fs, tree: t} }

func (l *ReadLog) note(set *map[string]bool, abs string) {
	rel := l.tree.Rel(abs)
	l.mu.Lock()
	if *set == nil {
		*set = map[string]bool{}
	}
	(*set)[rel] = true
	l.mu.Unlock()
}

func (l *ReadLog) ReadFile(p string) ([]byte, error) {
	l.note(&l.seen, p)
	return l.FileSystem.ReadFile(p)
}

func (l *ReadLog) Open(p string) (filesys.File, error) {
	l.note(&l.seen, p)
	return l.FileSystem.Open(p)
}

// Exists and IsDir: a path that does not exist in the repository does not
// exist in an artifact filtered from it either, so only a hit matters.
func (l *ReadLog) Exists(p string) bool {
	ok := l.FileSystem.Exists(p)
	if ok {
		l.note(&l.seen, p)
	}
	return ok
}

func (l *ReadLog) IsDir(p string) bool {
	ok := l.FileSystem.IsDir(p)
	if ok {
		l.note(&l.seen, p)
	}
	return ok
}

func (l *ReadLog) ReadDir(p string) ([]string, error) {
	l.note(&l.listed, p)
	return l.FileSystem.ReadDir(p)
}

func (l *ReadLog) Glob(pattern string) ([]string, error) {
	l.note(&l.listed, path.Dir(pattern))
	return l.FileSystem.Glob(pattern)
}

// anyOf reports whether the build saw any of the repository-relative files,
// or listed a directory holding one. A nil log (a build that did not record)
// saw everything.
func (l *ReadLog) anyOf(files []string) bool {
	if len(files) == 0 {
		return false
	}
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range files {
		if l.seen[f] || l.listed[path.Dir(f)] {
			return true
		}
	}
	return false
}
