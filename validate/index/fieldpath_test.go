package index

import (
	"reflect"
	"testing"
)

func TestFieldPath(t *testing.T) {
	for in, want := range map[string][]string{
		"spec.http[0].route[1].destination.host": {"spec", "http", "0", "route", "1", "destination", "host"},
		"spec.ports[1]":                          {"spec", "ports", "1"},
		"spec.matrix[0][2]":                      {"spec", "matrix", "0", "2"},
		"metadata.labels":                        {"metadata", "labels"},
		"spec":                                   {"spec"},
		"":                                       nil,
	} {
		if got := FieldPath(in); !reflect.DeepEqual(got, want) {
			t.Errorf("FieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}
