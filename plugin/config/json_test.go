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
		// encoding/json accepts an unpaired surrogate escape (it decodes it as
		// U+FFFD); RFC 8259 leaves it undefined and the reader refuses it.
		valid := json.Valid(data)
		if valid && loneSurrogate(data) {
			if !strings.Contains(err, "unpaired surrogate") {
				t.Fatalf("parseJSON(%q) error %q, want an unpaired surrogate error", data, err)
			}
			return
		}
		if (err == "") != valid {
			t.Fatalf("parseJSON(%q) error %q, but json.Valid = %v", data, err, valid)
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

// loneSurrogate reports whether a valid JSON text has a \u escape of a
// UTF-16 surrogate that is not a high surrogate followed by a low one.
func loneSurrogate(data []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+4 > len(data) {
			return 0, false
		}
		var r rune
		for _, c := range data[i : i+4] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(data):
			i++
			if data[i] != 'u' {
				continue
			}
			r, ok := hex4(i + 1)
			if !ok {
				continue
			}
			i += 4
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return true // a low surrogate first
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
					return true
				}
				low, ok := hex4(i + 3)
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return true
				}
				i += 6
			}
		}
	}
	return false
}

func TestLoneSurrogate(t *testing.T) {
	for in, want := range map[string]bool{
		`"\ud83d\ude00"`: false, `"\ud83d"`: true, `"\ude00"`: true, `"\ud83dx"`: true, `"\ud83d\u0041"`: true,
		`"\\ud83d"`: false, `["\u00e9", "\ud800"]`: true, `{"\udbff\udfff": 1}`: false,
	} {
		if got := loneSurrogate([]byte(in)); got != want {
			t.Errorf("loneSurrogate(%s) = %v, want %v", in, got, want)
		}
	}
}
