// Package config parses the plugin's pluginConfig: the JSON document Istio
// hands the plugin from a WasmPlugin's spec.pluginConfig.
//
// The same code runs inside Envoy (compiled by TinyGo into plugin.wasm) and
// in the repository validator, so a pull request is rejected with exactly the
// message the plugin would log at start-up. It therefore avoids fmt and
// encoding/json, which bloat TinyGo output, and never panics on any input.
package config

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
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
	if !gjson.ValidBytes(data) {
		return Config{}, errorf("", "pluginConfig is not valid JSON")
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return Config{}, errorf("", "pluginConfig must be a JSON object, got "+kind(root))
	}

	var (
		headers gjson.Result
		found   bool
		err     *Error
	)
	root.ForEach(func(key, value gjson.Result) bool {
		switch key.String() {
		case "responseHeaders":
			if found {
				err = errorf("responseHeaders", "appears more than once")
				return false
			}
			headers, found = value, true
		default:
			err = errorf(key.String(), "unknown field (the only field is responseHeaders)")
			return false
		}
		return true
	})
	if err != nil {
		return Config{}, err
	}
	if !found {
		return Default(), nil
	}
	list, perr := parseHeaders(headers)
	if perr != nil {
		return Config{}, perr
	}
	return Config{ResponseHeaders: list}, nil
}

func parseHeaders(v gjson.Result) ([]Header, *Error) {
	const path = "responseHeaders"
	if !v.IsArray() {
		return nil, errorf(path, "must be a list of {name, value} objects, got "+kind(v))
	}
	items := v.Array()
	switch {
	case len(items) == 0:
		return nil, errorf(path, "must list at least one header (omit responseHeaders for the default hello: world)")
	case len(items) > MaxHeaders:
		return nil, errorf(path, "lists "+strconv.Itoa(len(items))+" headers, more than the limit of "+strconv.Itoa(MaxHeaders))
	}
	out := make([]Header, 0, len(items))
	seen := make(map[string]int, len(items))
	for i, item := range items {
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

func parseHeader(at string, item gjson.Result) (Header, *Error) {
	if !item.IsObject() {
		return Header{}, errorf(at, "must be an object with name and value, got "+kind(item))
	}
	var (
		h                 Header
		hasName, hasValue bool
		err               *Error
	)
	item.ForEach(func(key, value gjson.Result) bool {
		field := at + "." + key.String()
		switch key.String() {
		case "name", "value":
			if (key.String() == "name" && hasName) || (key.String() == "value" && hasValue) {
				err = errorf(field, "appears more than once")
				return false
			}
			if value.Type != gjson.String {
				err = errorf(field, "must be a string, got "+kind(value))
				return false
			}
			if key.String() == "name" {
				h.Name, hasName = value.String(), true
			} else {
				h.Value, hasValue = value.String(), true
			}
		default:
			err = errorf(field, "unknown field (allowed: name, value)")
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return Header{}, err
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

// kind names a JSON value's type for error messages.
func kind(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return "a string"
	case gjson.Number:
		return "a number"
	case gjson.True, gjson.False:
		return "a boolean"
	case gjson.Null:
		return "null"
	}
	switch {
	case v.IsArray():
		return "a list"
	case v.IsObject():
		return "an object"
	}
	return "an unknown value"
}
