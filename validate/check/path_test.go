package check

import (
	"reflect"
	"testing"
)

// TestMessageField: the field an API server message names, as a path.
func TestMessageField(t *testing.T) {
	if got, want := messageField(`spec.template.spec.containers[0].volumeMounts[0].name: Not found: "x"`), []string{"spec", "template", "spec", "containers", "0", "volumeMounts", "0", "name"}; !reflect.DeepEqual(got, want) {
		t.Errorf("messageField = %q, want %q", got, want)
	}
}
