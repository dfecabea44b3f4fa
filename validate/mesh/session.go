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
	Only func(dir string) bool
	// PlatformOf, when set, gives the platform a target lands on (the one
	// its cluster's Istio releases install); nil, or a nil result, is the
	// session's platform.
	PlatformOf func(ix *index.Index) *Platform
	mu         sync.Mutex
	answers    map[answerKey]*outcome
}

// answerKey is one render on one platform: targets that share a render
// share an answer only when they land on the same platform.
type answerKey struct {
	ix       *index.Index
	platform *Platform
}

type outcome struct {
	once sync.Once
	ans  *Answer
	err  error
}

// NewSession returns a session for the clusters p describes.
func NewSession(p *Platform) *Session {
	return &Session{Analyzer: &Analyzer{Platform: p}, answers: map[answerKey]*outcome{}}
}

// Answer returns istiod's answer for ix: nil and no error when the target
// renders nothing istiod would look at, an *InternalError when pilot failed.
func (s *Session) Answer(ix *index.Index) (*Answer, error) {
	if s == nil || (s.Only != nil && !s.Only(ix.Target.Dir)) || !Relevant(ix) {
		return nil, nil
	}
	// Targets that share a render (index.Share) share one answer: the same
	// objects give istiod the same input.
	p := s.PlatformFor(ix)
	key := answerKey{ix.Origin(), p}
	s.mu.Lock()
	o := s.answers[key]
	if o == nil {
		o = &outcome{}
		s.answers[key] = o
	}
	s.mu.Unlock()
	analyzer := s.Analyzer
	if p != s.Analyzer.Platform {
		analyzer = &Analyzer{Platform: p}
	}
	o.once.Do(func() { o.ans, o.err = analyzer.Analyze(key.ix) })
	return o.ans, o.err
}

// PlatformFor returns the platform target ix lands on: PlatformOf's, else
// the session's.
func (s *Session) PlatformFor(ix *index.Index) *Platform {
	if s == nil {
		return DefaultPlatform()
	}
	if s.PlatformOf != nil {
		if p := s.PlatformOf(ix); p != nil {
			return p
		}
	}
	return s.Analyzer.Platform
}

// Platform returns the platform the session's answers assume.
func (s *Session) Platform() *Platform {
	if s == nil {
		return DefaultPlatform()
	}
	return s.Analyzer.Platform
}
