// Package configtest holds the configuration cases shared by the tests of the
// config package, the plugin and the validator, so that all three are held
// to the same contract.
package configtest

import (
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
}

// Environment is a valid configuration as the overlays use it.
const Environment = `{"responseHeaders":[{"name":"hello","value":"world"},{"name":"x-environment","value":"dev"}]}`
