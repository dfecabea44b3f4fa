package render

import "fmt"

// Error is a target that could not be rendered.
type Error struct {
	Target Target
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("render %s: %v", e.Target.Dir, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// SourceError is an input problem found before rendering, naming the file
// (the Kustomize engine's source checks, kustomize.CheckSources).
type SourceError struct {
	File string // repository-relative
	// Line is the line of File the problem is on; 0 if unknown.
	Line int
	Msg  string
	// Remote is set when the problem is a remote reference: the repository
	// is readable, one kustomization reaches for the network.
	Remote bool
}

func (e *SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}
