// Package config parses the plugin's pluginConfig: the JSON document Istio
// hands the plugin from a WasmPlugin's spec.pluginConfig.
//
// The same code runs inside Envoy (compiled by TinyGo into plugin.wasm) and
// in the repository validator, so a pull request is rejected with exactly the
// message the plugin would log at start-up. It therefore avoids fmt and
// encoding/json (and JSON libraries that import it), which bloat TinyGo
// output, reads JSON with its own strict reader, and never panics on any input.
package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a configuration. They are far above any sensible use and exist
// so that a typo (a pasted certificate, a generated list) fails at start-up
// instead of inflating every response.
const (
	// MaxConfigBytes is the largest pluginConfig document accepted.
	MaxConfigBytes = 64 << 10
	// MaxHeaders is the largest number of entries in responseHeaders.
	MaxHeaders = 32
	// MaxNameBytes is the longest header name accepted.
	MaxNameBytes = 256
	// MaxValueBytes is the longest header value accepted.
	MaxValueBytes = 4096
)

// Header is one response header the plugin sets.
type Header struct {
	Name  string
	Value string
}

// Config is a parsed, valid plugin configuration.
type Config struct {
	// ResponseHeaders are set, in order, on every HTTP response. Each replaces
	// any value the upstream response already carries under that name.
	ResponseHeaders []Header
}

// Default is the configuration used when pluginConfig is absent or empty.
func Default() Config {
	return Config{ResponseHeaders: []Header{{Name: "hello", Value: "world"}}}
}

// Error is a configuration error: Path locates the offending field
// ("responseHeaders[1].name"), Msg says what is wrong with it.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func errorf(path, msg string) *Error { return &Error{Path: path, Msg: msg} }

// Parse validates data (the pluginConfig JSON) and returns the configuration
// it describes. Empty input, or an object without responseHeaders, yields
// Default(). Any other deviation from the schema is an *Error.
func Parse(data []byte) (Config, error) {
	if len(data) > MaxConfigBytes {
		return Config{}, errorf("", "pluginConfig is "+strconv.Itoa(len(data))+" bytes, more than the limit of "+strconv.Itoa(MaxConfigBytes))
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return Default(), nil
	}
	root, perr := parseJSON(data)
	if perr != "" {
		return Config{}, errorf("", "pluginConfig is "+perr)
	}
	if root.kind != kindObject {
		return Config{}, errorf("", "pluginConfig must be a JSON object, got "+root.describe())
	}
	var headers *value
	for i, m := range root.members {
		if m.key != "responseHeaders" {
			return Config{}, errorf(m.key, "unknown field (the only field is responseHeaders)")
		}
		if headers != nil {
			return Config{}, errorf("responseHeaders", "appears more than once")
		}
		headers = &root.members[i].value
	}
	if headers == nil {
		return Default(), nil
	}
	list, err := parseHeaders(*headers)
	if err != nil {
		return Config{}, err
	}
	return Config{ResponseHeaders: list}, nil
}

func parseHeaders(v value) ([]Header, *Error) {
	const path = "responseHeaders"
	if v.kind != kindArray {
		return nil, errorf(path, "must be a list of {name, value} objects, got "+v.describe())
	}
	switch {
	case len(v.items) == 0:
		return nil, errorf(path, "must list at least one header (omit responseHeaders for the default hello: world)")
	case len(v.items) > MaxHeaders:
		return nil, errorf(path, "lists "+strconv.Itoa(len(v.items))+" headers, more than the limit of "+strconv.Itoa(MaxHeaders))
	}
	out := make([]Header, 0, len(v.items))
	seen := make(map[string]int, len(v.items))
	for i, item := range v.items {
		at := path + "[" + strconv.Itoa(i) + "]"
		h, err := parseHeader(at, item)
		if err != nil {
			return nil, err
		}
		lower := strings.ToLower(h.Name)
		if j, dup := seen[lower]; dup {
			return nil, errorf(at+".name", strconv.Quote(h.Name)+" duplicates "+path+"["+strconv.Itoa(j)+"].name (header names are case-insensitive)")
		}
		seen[lower] = i
		out = append(out, h)
	}
	return out, nil
}

func parseHeader(at string, item value) (Header, *Error) {
	if item.kind != kindObject {
		return Header{}, errorf(at, "must be an object with name and value, got "+item.describe())
	}
	var (
		h                 Header
		hasName, hasValue bool
	)
	for _, m := range item.members {
		field := at + "." + m.key
		switch m.key {
		case "name", "value":
			if (m.key == "name" && hasName) || (m.key == "value" && hasValue) {
				return Header{}, errorf(field, "appears more than once")
			}
			if m.value.kind != kindString {
				return Header{}, errorf(field, "must be a string, got "+m.value.describe())
			}
			if m.key == "name" {
				h.Name, hasName = m.value.str, true
			} else {
				h.Value, hasValue = m.value.str, true
			}
		default:
			return Header{}, errorf(field, "unknown field (allowed: name, value)")
		}
	}
	switch {
	case !hasName:
		return Header{}, errorf(at+".name", "is required")
	case !hasValue:
		return Header{}, errorf(at+".value", "is required (use \"\" for an empty value)")
	}
	if msg := checkName(h.Name); msg != "" {
		return Header{}, errorf(at+".name", msg)
	}
	if msg := checkValue(h.Value); msg != "" {
		return Header{}, errorf(at+".value", msg)
	}
	return h, nil
}

// checkName returns why name is not a settable HTTP header name, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > MaxNameBytes:
		return "is " + strconv.Itoa(len(name)) + " bytes, more than the limit of " + strconv.Itoa(MaxNameBytes)
	case name[0] == ':':
		return strconv.Quote(name) + " is an HTTP/2 pseudo-header, which Envoy manages and a plugin cannot set"
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			r, _ := utf8.DecodeRuneInString(name[i:])
			return strconv.Quote(name) + " is not a valid HTTP header name: character " + strconv.QuoteRune(r) + " at byte " + strconv.Itoa(i) + " is not allowed (RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)"
		}
	}
	return ""
}

// checkValue returns why value cannot be sent as a header value, or "".
func checkValue(value string) string {
	if len(value) > MaxValueBytes {
		return "is " + strconv.Itoa(len(value)) + " bytes, more than the limit of " + strconv.Itoa(MaxValueBytes)
	}
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case '\r', '\n', 0:
			return "must not contain CR, LF or NUL (found " + strconv.QuoteRune(rune(value[i])) + " at byte " + strconv.Itoa(i) + ")"
		}
	}
	return ""
}

// isTokenChar reports whether c is a tchar of RFC 9110 section 5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
