package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"meshops.dev/meshops/plugin/config"
	"meshops.dev/meshops/plugin/config/configtest"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []config.Header
	}{
		{"absent", "", []config.Header{{"hello", "world"}}},
		{"blank", " \n\t", []config.Header{{"hello", "world"}}},
		{"empty object", "{}", []config.Header{{"hello", "world"}}},
		{"environment", `{"responseHeaders":[{"name":"hello","value":"world"},{"name":"x-environment","value":"dev"}]}`,
			[]config.Header{{"hello", "world"}, {"x-environment", "dev"}}},
		{"field order and empty value", `{"responseHeaders":[{"value":"","name":"X-Empty"}]}`, []config.Header{{"X-Empty", ""}}},
		{"escapes are decoded", `{"responseHeaders":[{"name":"x-q","value":"a\"b\u00e9\t"}]}`, []config.Header{{"x-q", "a\"bé\t"}}},
		{"token punctuation", `{"responseHeaders":[{"name":"x!#$%&'*+-.^_|~1","value":"v"}]}`, []config.Header{{"x!#$%&'*+-.^_|~1", "v"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("config.Parse(%q) error: %v", tt.in, err)
			}
			if len(got.ResponseHeaders) != len(tt.want) {
				t.Fatalf("config.Parse(%q) = %v, want %v", tt.in, got.ResponseHeaders, tt.want)
			}
			for i := range tt.want {
				if got.ResponseHeaders[i] != tt.want[i] {
					t.Errorf("header %d = %+v, want %+v", i, got.ResponseHeaders[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range configtest.Invalid {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := config.Parse([]byte(tt.In))
			if err == nil {
				t.Fatalf("Parse accepted %q as %+v", tt.In, got)
			}
			if _, ok := err.(*config.Error); !ok {
				t.Errorf("error is %T, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tt.Want) {
				t.Errorf("error %q does not contain %q", err, tt.Want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range configtest.Invalid {
		f.Add([]byte(tt.In))
	}
	f.Add([]byte(`{"responseHeaders":[{"name":"hello","value":"world"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error message for %q", data)
			}
			return
		}
		// Whatever Parse accepts must be safe to hand to Envoy.
		if len(cfg.ResponseHeaders) == 0 || len(cfg.ResponseHeaders) > config.MaxHeaders {
			t.Fatalf("accepted %d headers from %q", len(cfg.ResponseHeaders), data)
		}
		seen := map[string]bool{}
		for _, h := range cfg.ResponseHeaders {
			if h.Name == "" || h.Name[0] == ':' || strings.ContainsAny(h.Name, " \t\r\n\x00\"(),/:;<=>?@[\\]{}") {
				t.Fatalf("accepted bad name %q", h.Name)
			}
			if strings.ContainsAny(h.Value, "\r\n\x00") {
				t.Fatalf("accepted bad value %q", h.Value)
			}
			if seen[strings.ToLower(h.Name)] {
				t.Fatalf("accepted duplicate name %q", h.Name)
			}
			seen[strings.ToLower(h.Name)] = true
		}
		// What is accepted survives a round trip through a JSON encoder, as
		// when Istio re-serialises pluginConfig.
		doc, err := json.Marshal(map[string]any{"responseHeaders": headerMaps(cfg.ResponseHeaders)})
		if err != nil {
			t.Fatal(err)
		}
		again, err := config.Parse(doc)
		if err != nil || len(again.ResponseHeaders) != len(cfg.ResponseHeaders) {
			t.Fatalf("round trip of %q: %v (%d headers, want %d)", data, err, len(again.ResponseHeaders), len(cfg.ResponseHeaders))
		}
	})
}

func headerMaps(hs []config.Header) []map[string]string {
	out := make([]map[string]string, len(hs))
	for i, h := range hs {
		out[i] = map[string]string{"name": h.Name, "value": h.Value}
	}
	return out
}

func TestParseAtTheLimits(t *testing.T) {
	for _, tt := range configtest.Valid {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := config.Parse([]byte(tt.In))
			if err != nil {
				t.Fatalf("config.Parse of a %d-byte document: %v", len(tt.In), err)
			}
			if len(got.ResponseHeaders) != len(tt.Want) {
				t.Fatalf("got %d headers, want %d", len(got.ResponseHeaders), len(tt.Want))
			}
			for i := range tt.Want {
				if got.ResponseHeaders[i] != tt.Want[i] {
					t.Errorf("header %d = %q: %d bytes, want %q: %d bytes", i, got.ResponseHeaders[i].Name, len(got.ResponseHeaders[i].Value), tt.Want[i].Name, len(tt.Want[i].Value))
				}
			}
		})
	}
}

// The documents at the size limit are exactly as long as their names say.
func TestDocumentSizes(t *testing.T) {
	for _, size := range []int{64, 100, 4100, config.MaxConfigBytes - 1, config.MaxConfigBytes, config.MaxConfigBytes + 1} {
		doc := configtest.Document(size)
		if len(doc) != size {
			t.Errorf("Document(%d) is %d bytes", size, len(doc))
		}
		var v map[string][]map[string]string
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Errorf("Document(%d) is not JSON: %v", size, err)
		}
		if got, want := len(v["responseHeaders"]), len(configtest.DocumentHeaders(size)); got != want || want == 0 {
			t.Errorf("Document(%d) has %d headers, DocumentHeaders says %d", size, got, want)
		}
	}
}
