package config

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// toAny converts a parsed value to what encoding/json would decode, for
// comparison (numbers as float64 text is enough for equality here).
func toAny(v value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindBool:
		return v.str == "true"
	case kindNumber:
		return json.Number(v.str)
	case kindString:
		return v.str
	case kindArray:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			out[i] = toAny(it)
		}
		return out
	}
	out := map[string]any{}
	for _, m := range v.members {
		out[m.key] = toAny(m.value)
	}
	return out
}

func TestParseJSON(t *testing.T) {
	valid := []string{
		`{}`, `[]`, ` {"a": [1, -2.5e+3, 0, true, false, null, "x"]} `,
		`"\u00e9\ud83d\ude00\n\t\"\\\/"`, `{"a":{"b":{"c":[]}}}`, `-0`, `1E5`,
	}
	for _, in := range valid {
		v, err := parseJSON([]byte(in))
		if err != "" {
			t.Errorf("parseJSON(%q): %s", in, err)
			continue
		}
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(toAny(v))
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) {
			t.Errorf("parseJSON(%q) = %s, want %s", in, got, exp)
		}
	}
	invalid := map[string]string{
		`{"a":1,}`:  "expected a quoted key",
		`[1,]`:      "unexpected character ']'",
		`01`:        "unexpected text after the document",
		`{"a" 1}`:   "expected ':'",
		`"abc`:      "unterminated string",
		`"\x"`:      `unknown escape \x`,
		"\"a\x01\"": "control character",
		"\"\xff\"":  "not valid UTF-8",
		`"\ud83d"`:  "unpaired surrogate",
		`{} {}`:     "unexpected text after the document",
		`tru`:       "unexpected character",
		`1.`:        "malformed number",
		`{'a':1}`:   "expected a quoted key",
		strings.Repeat("[", 40) + strings.Repeat("]", 40): "nested more than 16 levels deep",
	}
	for in, want := range invalid {
		if _, err := parseJSON([]byte(in)); !strings.Contains(err, want) {
			t.Errorf("parseJSON(%q) = %q, want %q", in, err, want)
		}
	}
}

// FuzzJSON holds the reader to encoding/json: it accepts exactly the valid
// documents (up to its depth bound) and decodes strings the same way.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"responseHeaders":[{"name":"a","value":"b"}]}`, `[1,2,{"a":"\u00e9"}]`, `"\ud83d\ude00"`, `-1.5e3`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		if strings.Contains(err, "levels deep") || !utf8.Valid(data) {
			return // beyond the depth bound; encoding/json accepts invalid UTF-8, RFC 8259 does not
		}
		if (err == "") != json.Valid(data) {
			t.Fatalf("parseJSON(%q) error %q, but json.Valid = %v", data, err, json.Valid(data))
		}
		if err != "" {
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var want any
		if e := dec.Decode(&want); e != nil {
			t.Fatal(e)
		}
		got, _ := json.Marshal(toAny(v))
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) {
			t.Fatalf("parseJSON(%q) = %s, encoding/json %s", data, got, exp)
		}
	})
}
