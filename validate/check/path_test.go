package check

import (
	"reflect"
	"testing"
)

func TestPathOf(t *testing.T) {
	for in, want := range map[string][]string{
		"spec.http[0].route[1].destination.host": {"spec", "http", "0", "route", "1", "destination", "host"},
		"spec.ports[1]":                          {"spec", "ports", "1"},
		"spec.matrix[0][2]":                      {"spec", "matrix", "0", "2"},
		"metadata.labels":                        {"metadata", "labels"},
		"spec":                                   {"spec"},
		"":                                       nil,
	} {
		if got := pathOf(in); !reflect.DeepEqual(got, want) {
			t.Errorf("pathOf(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := messageField(`spec.template.spec.containers[0].volumeMounts[0].name: Not found: "x"`), []string{"spec", "template", "spec", "containers", "0", "volumeMounts", "0", "name"}; !reflect.DeepEqual(got, want) {
		t.Errorf("messageField = %q, want %q", got, want)
	}
}
