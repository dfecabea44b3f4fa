package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func known(code string) bool {
	return map[string]bool{"IMG002": true, "WL004": true, "VAL001": true}[code]
}

func parseFile(t *testing.T, name string) (*Settings, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data, known, "VAL001")
}

func TestParse(t *testing.T) {
	s, err := parseFile(t, "valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Off{{Code: "IMG002", Line: 3}, {Code: "WL004", Paths: []string{"overlays/dev/**", "base/legacy"}, Line: 4}}
	if !reflect.DeepEqual(s.Off, want) {
		t.Errorf("got %+v, want %+v", s.Off, want)
	}
	for _, tt := range []struct {
		code, file string
		off        bool
	}{
		{"IMG002", "overlays/prod/kustomization.yaml", true},
		{"WL004", "overlays/dev/kustomization.yaml", true},
		{"WL004", "overlays/dev/patches/deep/x.yaml", true},
		{"WL004", "base/legacy/service.yaml", true},
		{"WL004", "base/blog/service.yaml", false},
		{"WL004", "overlays/development/kustomization.yaml", false},
		{"WP001", "overlays/dev/kustomization.yaml", false},
	} {
		if _, got := s.Silenced(tt.code, tt.file); got != tt.off {
			t.Errorf("Silenced(%s, %s) = %v, want %v", tt.code, tt.file, got, tt.off)
		}
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for file, want := range map[string]string{
		"unknown-code.yaml": `validate.yaml:3: unknown check "IMG999" (go run ./validate --list-checks lists them)`,
		"bad-value.yaml":    `validate.yaml:2: IMG002: "false": the value is off, or a mapping {off: [paths]}`,
		"unknown-key.yaml":  `validate.yaml:1: unknown key "check" (want checks)`,
		"bad-glob.yaml":     `validate.yaml:4: WL004: path "overlays/[dev": syntax error in pattern`,
		"crash-off.yaml":    `validate.yaml:2: check VAL001 cannot be turned off`,
	} {
		_, err := parseFile(t, file)
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", file, err, want)
		}
	}
}

func TestEmptyFileTurnsNothingOff(t *testing.T) {
	for _, data := range []string{"", "# nothing yet\n", "checks:\n"} {
		s, err := Parse([]byte(data), known)
		if err != nil || len(s.Off) != 0 {
			t.Errorf("%q: got %+v, %v", data, s, err)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		glob, file string
		want       bool
	}{
		{"overlays/*/kustomization.yaml", "overlays/dev/kustomization.yaml", true},
		{"overlays/*/kustomization.yaml", "overlays/dev/x/kustomization.yaml", false},
		{"**/service.yaml", "base/blog/service.yaml", true},
		{"**/service.yaml", "service.yaml", true},
		{"base", "base/blog/service.yaml", true},
		{"base/blog/*.yaml", "base/ingress/gateway.yaml", false},
	} {
		if got := Match(tt.glob, tt.file); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.glob, tt.file, got, tt.want)
		}
	}
}
