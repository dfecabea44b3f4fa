package config

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small, strict JSON reader (RFC 8259). The plugin needs a few fields of a
// small document; a general JSON library would pull encoding/json (reflection)
// into the TinyGo build, which is what keeps Wasm modules large.

// maxDepth bounds nesting: the configuration is three levels deep, and the
// bound keeps a hostile document from exhausting the stack.
const maxDepth = 16

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value. Objects keep their members in order,
// duplicates included, so the caller can refuse them.
type value struct {
	kind    kind
	str     string // decoded string, or the number's text
	items   []value
	members []member
}

type member struct {
	key   string
	value value
}

// describe names a value's type for error messages.
func (v value) describe() string {
	switch v.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "a list"
	}
	return "an object"
}

type parser struct {
	data []byte
	pos  int
}

// parseJSON reads exactly one JSON value surrounded by optional whitespace.
func parseJSON(data []byte) (value, string) {
	p := &parser{data: data}
	p.space()
	v, err := p.value(0)
	if err != "" {
		return value{}, err
	}
	p.space()
	if p.pos != len(p.data) {
		return value{}, p.errorf("unexpected text after the document")
	}
	return v, ""
}

func (p *parser) errorf(msg string) string {
	return "not valid JSON at byte " + strconv.Itoa(p.pos) + ": " + msg
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) literal(word string, v value) (value, string) {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return value{}, p.errorf("unexpected character")
	}
	p.pos += len(word)
	return v, ""
}

func (p *parser) value(depth int) (value, string) {
	if depth > maxDepth {
		return value{}, p.errorf("nested more than " + strconv.Itoa(maxDepth) + " levels deep")
	}
	if p.pos >= len(p.data) {
		return value{}, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == 't':
		return p.literal("true", value{kind: kindBool, str: "true"})
	case c == 'f':
		return p.literal("false", value{kind: kindBool, str: "false"})
	case c == 'n':
		return p.literal("null", value{kind: kindNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return value{}, p.errorf("unexpected character " + strconv.QuoteRune(rune(p.data[p.pos])))
}

func (p *parser) object(depth int) (value, string) {
	p.pos++ // {
	v := value{kind: kindObject}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, ""
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return value{}, p.errorf("expected a quoted key")
		}
		key, err := p.string()
		if err != "" {
			return value{}, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.errorf("expected ':' after a key")
		}
		p.pos++
		p.space()
		item, err := p.value(depth + 1)
		if err != "" {
			return value{}, err
		}
		v.members = append(v.members, member{key, item})
		p.space()
		if p.pos >= len(p.data) {
			return value{}, p.errorf("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, ""
		default:
			return value{}, p.errorf("expected ',' or '}'")
		}
	}
}

func (p *parser) array(depth int) (value, string) {
	p.pos++ // [
	v := value{kind: kindArray}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, ""
	}
	for {
		p.space()
		item, err := p.value(depth + 1)
		if err != "" {
			return value{}, err
		}
		v.items = append(v.items, item)
		p.space()
		if p.pos >= len(p.data) {
			return value{}, p.errorf("unexpected end of input in a list")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, ""
		default:
			return value{}, p.errorf("expected ',' or ']'")
		}
	}
}

func (p *parser) number() (value, string) {
	start := p.pos
	digits := func() bool {
		n := p.pos
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
		return p.pos > n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if !digits() {
		return value{}, p.errorf("malformed number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if !digits() {
			return value{}, p.errorf("malformed number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if !digits() {
			return value{}, p.errorf("malformed number")
		}
	}
	return value{kind: kindNumber, str: string(p.data[start:p.pos])}, ""
}

// string reads a quoted string at p.pos and returns it decoded.
func (p *parser) string() (string, string) {
	p.pos++ // opening quote
	var out []byte
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(out), ""
		case c < 0x20:
			return "", p.errorf("control character in a string (escape it)")
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", p.errorf("unterminated escape")
			}
			esc := p.data[p.pos+1]
			p.pos += 2
			switch esc {
			case '"', '\\', '/':
				out = append(out, esc)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("malformed \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						p.pos += 2
						if r2, ok = p.hex4(); !ok {
							return "", p.errorf("malformed \\u escape")
						}
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return "", p.errorf("unpaired surrogate in a \\u escape")
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", p.errorf("unknown escape \\" + string(rune(esc)))
			}
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf("string is not valid UTF-8")
			}
			out = append(out, p.data[p.pos:p.pos+size]...)
			p.pos += size
		}
	}
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}
