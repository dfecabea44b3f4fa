package fork

import (
	"sort"
	"strings"
)

// class says which characters may not border a token: a token is replaced
// only where it stands whole, never inside a longer URL or host name.
type class int

const (
	urlToken  class = iota // a git URL
	refToken               // an oci:// image repository: a ':tag' or '@digest' may follow
	hostToken              // a DNS name: a '*.' or 'ns/' may precede, ':port' may follow
)

type token struct {
	old, new string
	class    class
}

func isDNSChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func isURLChar(c byte) bool {
	return isDNSChar(c) || strings.IndexByte("_~:/?#@!$&*+,;=%", c) >= 0
}

func (t token) borders(text string, i int) bool {
	before, after := byte(' '), byte(' ')
	if i > 0 {
		before = text[i-1]
	}
	if j := i + len(t.old); j < len(text) {
		after = text[j]
	}
	switch t.class {
	case urlToken:
		return !isURLChar(before) && !isURLChar(after)
	case refToken:
		return !isURLChar(before) && !isDNSChar(after) && after != '/' && after != '_'
	default:
		return !isDNSChar(before) && !isDNSChar(after)
	}
}

// replaceTokens rewrites every whole occurrence of a token's old text in one
// left-to-right pass (a replacement is never rewritten again) and reports
// each replacement with its offset in text.
func replaceTokens(text string, tokens []token) (string, []match) {
	sort.SliceStable(tokens, func(i, j int) bool { return len(tokens[i].old) > len(tokens[j].old) })
	var b strings.Builder
	var done []match
	for i := 0; i < len(text); {
		matched := false
		for _, t := range tokens {
			if t.old != t.new && strings.HasPrefix(text[i:], t.old) && t.borders(text, i) {
				b.WriteString(t.new)
				done = append(done, match{t, i})
				i += len(t.old)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(text[i])
			i++
		}
	}
	return b.String(), done
}

// match is one replacement: the token and where its old text started.
type match struct {
	token
	at int
}
