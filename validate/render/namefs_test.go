package render

import "testing"

func TestNameEncodingRoundTrips(t *testing.T) {
	for _, e := range []string{"a", "web app", "übersicht", "::odd", "::", "a:b", "x+y", "..", ".", "", "ok-name_1.yaml"} {
		enc := encodeElement(e)
		if got := decodeElement(enc); got != e {
			t.Errorf("%q: encoded %q decodes to %q", e, enc, got)
		}
		if enc != "" && enc != "." && enc != ".." && !legalElement.MatchString(enc) {
			t.Errorf("%q: encoded %q is not a legal in-memory name", e, enc)
		}
	}
}
