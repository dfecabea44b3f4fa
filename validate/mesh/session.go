package mesh

import (
	"sync"

	"meshops.dev/meshops/validate/index"
)

// Session asks istiod about each target once and hands the answer to every
// check that needs it. It is safe for concurrent use.
type Session struct {
	Analyzer *Analyzer
	// Only, when set, limits the targets asked about to the directories it
	// accepts; the others get no answer (nil, nil).
	Only    func(dir string) bool
	mu      sync.Mutex
	answers map[*index.Index]*outcome
}

type outcome struct {
	once sync.Once
	ans  *Answer
	err  error
}

// NewSession returns a session for the clusters p describes.
func NewSession(p *Platform) *Session {
	return &Session{Analyzer: &Analyzer{Platform: p}, answers: map[*index.Index]*outcome{}}
}

// Answer returns istiod's answer for ix: nil and no error when the target
// renders nothing istiod would look at, an *InternalError when pilot failed.
func (s *Session) Answer(ix *index.Index) (*Answer, error) {
	if s == nil || (s.Only != nil && !s.Only(ix.Target.Dir)) || !Relevant(ix) {
		return nil, nil
	}
	// Targets that share a render (index.Share) share one answer: the same
	// objects give istiod the same input.
	key := ix.Origin()
	s.mu.Lock()
	o := s.answers[key]
	if o == nil {
		o = &outcome{}
		s.answers[key] = o
	}
	s.mu.Unlock()
	o.once.Do(func() { o.ans, o.err = s.Analyzer.Analyze(key) })
	return o.ans, o.err
}

// Platform returns the platform the session's answers assume.
func (s *Session) Platform() *Platform {
	if s == nil {
		return DefaultPlatform()
	}
	return s.Analyzer.Platform
}
