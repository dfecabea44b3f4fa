// Package configtest holds the configuration cases shared by the tests of the
// config package, the plugin and the validator, so that all three are held
// to the same contract.
package configtest

import (
	"strconv"
	"strings"

	"meshops.dev/meshops/plugin/config"
)

// Invalid lists configurations that config.Parse and so the plugin's
// OnPluginStart must refuse, each with (part of) the message it must produce.
var Invalid = []struct {
	Name, In, Want string
}{
	{"not json", `{"responseHeaders":`, "pluginConfig is not valid JSON"},
	{"not an object", `["hello"]`, "pluginConfig must be a JSON object, got a list"},
	{"unknown key", `{"responseHeader":[]}`, "responseHeader: unknown field (the only field is responseHeaders)"},
	{"duplicate key", `{"responseHeaders":[{"name":"a","value":"b"}],"responseHeaders":[]}`, "responseHeaders: appears more than once"},
	{"list is a map", `{"responseHeaders":{"hello":"world"}}`, "responseHeaders: must be a list of {name, value} objects, got an object"},
	{"empty list", `{"responseHeaders":[]}`, "responseHeaders: must list at least one header"},
	{"item not object", `{"responseHeaders":["hello: world"]}`, "responseHeaders[0]: must be an object with name and value, got a string"},
	{"missing name", `{"responseHeaders":[{"name":"a","value":"b"},{"value":"dev"}]}`, "responseHeaders[1].name: is required"},
	{"missing value", `{"responseHeaders":[{"name":"a"}]}`, "responseHeaders[0].value: is required"},
	{"empty name", `{"responseHeaders":[{"name":"a","value":"b"},{"name":"","value":"dev"}]}`, "responseHeaders[1].name: must not be empty"},
	{"name wrong type", `{"responseHeaders":[{"name":7,"value":"b"}]}`, "responseHeaders[0].name: must be a string, got a number"},
	{"value wrong type", `{"responseHeaders":[{"name":"a","value":true}]}`, "responseHeaders[0].value: must be a string, got a boolean"},
	{"value null", `{"responseHeaders":[{"name":"a","value":null}]}`, "responseHeaders[0].value: must be a string, got null"},
	{"unknown item key", `{"responseHeaders":[{"name":"a","value":"b","append":true}]}`, "responseHeaders[0].append: unknown field (allowed: name, value)"},
	{"space in name", `{"responseHeaders":[{"name":"x env","value":"b"}]}`, `responseHeaders[0].name: "x env" is not a valid HTTP header name: character ' ' at byte 1`},
	{"colon in name", `{"responseHeaders":[{"name":"hello:","value":"b"}]}`, `responseHeaders[0].name: "hello:" is not a valid HTTP header name`},
	{"non-ascii name", `{"responseHeaders":[{"name":"héllo","value":"b"}]}`, `responseHeaders[0].name: "héllo" is not a valid HTTP header name: character 'é' at byte 1`},
	{"pseudo-header", `{"responseHeaders":[{"name":":status","value":"500"}]}`, `responseHeaders[0].name: ":status" is an HTTP/2 pseudo-header`},
	{"duplicate name", `{"responseHeaders":[{"name":"Hello","value":"a"},{"name":"x","value":"b"},{"name":"hello","value":"c"}]}`, `responseHeaders[2].name: "hello" duplicates responseHeaders[0].name`},
	{"CR in value", `{"responseHeaders":[{"name":"a","value":"b\r"}]}`, `responseHeaders[0].value: must not contain CR, LF or NUL (found '\r' at byte 1)`},
	{"LF in value", `{"responseHeaders":[{"name":"a","value":"b\nSet-Cookie: x"}]}`, `responseHeaders[0].value: must not contain CR, LF or NUL (found '\n' at byte 1)`},
	{"NUL in value", `{"responseHeaders":[{"name":"a","value":"\u0000"}]}`, `responseHeaders[0].value: must not contain CR, LF or NUL (found '\x00' at byte 0)`},
	{"long name", `{"responseHeaders":[{"name":"` + strings.Repeat("n", config.MaxNameBytes+1) + `","value":"b"}]}`, "responseHeaders[0].name: is 257 bytes, more than the limit of 256"},
	{"long value", `{"responseHeaders":[{"name":"a","value":"` + strings.Repeat("v", config.MaxValueBytes+1) + `"}]}`, "responseHeaders[0].value: is 4097 bytes, more than the limit of 4096"},
	{"too many headers", `{"responseHeaders":[` + strings.TrimSuffix(strings.Repeat(`{"name":"a","value":"b"},`, config.MaxHeaders+1), ",") + `]}`, "responseHeaders: lists 33 headers, more than the limit of 32"},
	{"huge document", `{"responseHeaders":[{"name":"a","value":"` + strings.Repeat(" ", config.MaxConfigBytes) + `"}]}`, "bytes, more than the limit of 65536"},
	{"document one byte over", Document(config.MaxConfigBytes + 1), "pluginConfig is 65537 bytes, more than the limit of 65536"},
}

// Environment is a valid configuration as the overlays use it.
const Environment = `{"responseHeaders":[{"name":"hello","value":"world"},{"name":"x-environment","value":"dev"}]}`

// Valid lists configurations at the documented limits, each with the headers
// config.Parse must return (and the plugin must set) in order. Every limit in
// Valid has a case one step over it in Invalid.
var Valid = []struct {
	Name string
	In   string
	Want []config.Header
}{
	{"4000-byte value", `{"responseHeaders":[{"name":"x-big","value":"` + strings.Repeat("v", 4000) + `"}]}`,
		[]config.Header{{Name: "x-big", Value: strings.Repeat("v", 4000)}}},
	{"value at the limit", `{"responseHeaders":[{"name":"x-big","value":"` + strings.Repeat("v", config.MaxValueBytes) + `"}]}`,
		[]config.Header{{Name: "x-big", Value: strings.Repeat("v", config.MaxValueBytes)}}},
	{"name at the limit", `{"responseHeaders":[{"name":"` + strings.Repeat("n", config.MaxNameBytes) + `","value":"b"}]}`,
		[]config.Header{{Name: strings.Repeat("n", config.MaxNameBytes), Value: "b"}}},
	{"headers at the limit", documentOf(manyHeaders(config.MaxHeaders)), manyHeaders(config.MaxHeaders)},
	{"document just under the limit", Document(config.MaxConfigBytes - 1), DocumentHeaders(config.MaxConfigBytes - 1)},
	{"document at the limit", Document(config.MaxConfigBytes), DocumentHeaders(config.MaxConfigBytes)},
}

// manyHeaders returns n distinct headers x-header-0 ... x-header-(n-1).
func manyHeaders(n int) []config.Header {
	hs := make([]config.Header, n)
	for i := range hs {
		hs[i] = config.Header{Name: "x-header-" + strconv.Itoa(i), Value: "value " + strconv.Itoa(i)}
	}
	return hs
}

// documentOf is the compact pluginConfig JSON for hs (names and values must
// need no escaping).
func documentOf(hs []config.Header) string {
	var b strings.Builder
	b.WriteString(`{"responseHeaders":[`)
	for i, h := range hs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"` + h.Name + `","value":"` + h.Value + `"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// fill is the length of each value in a Document: long values, as a real
// large configuration would have, below MaxValueBytes.
const fill = 4000

// DocumentHeaders returns the headers of Document(size).
func DocumentHeaders(size int) []config.Header {
	var hs []config.Header
	for len(documentOf(hs)) < size {
		i := len(hs)
		hs = append(hs, config.Header{Name: "x-fill-" + strconv.Itoa(i), Value: ""})
		if over := len(documentOf(hs)) - size; over > 0 {
			// Not even an empty value fits: the rest is whitespace.
			return hs[:i]
		}
		room := size - len(documentOf(hs))
		hs[i].Value = strings.Repeat("v", min(room, fill))
	}
	return hs
}

// Document returns a valid pluginConfig document of exactly size bytes
// (size >= 64): headers carrying 4,000-byte values, padded with JSON
// whitespace to the exact length. Above config.MaxConfigBytes it is refused
// for its size alone.
func Document(size int) string {
	doc := documentOf(DocumentHeaders(size))
	return doc[:len(doc)-1] + strings.Repeat(" ", size-len(doc)) + "}"
}
