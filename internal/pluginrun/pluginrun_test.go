package pluginrun

import (
	"reflect"
	"strings"
	"testing"
)

func TestRespond(t *testing.T) {
	got := Respond(`{"responseHeaders":[{"name":"x-a","value":"1"},{"name":"server","value":"mesh"}]}`, [][2]string{{":status", "200"}, {"server", "nginx"}})
	want := [][2]string{{":status", "200"}, {"server", "mesh"}, {"x-a", "1"}}
	if got.StartError != "" || !reflect.DeepEqual(got.Headers, want) {
		t.Errorf("Respond = %+v, want headers %q", got, want)
	}
	if got := Respond("", [][2]string{{":status", "200"}}); !reflect.DeepEqual(got.Headers, [][2]string{{":status", "200"}, {"hello", "world"}}) {
		t.Errorf("no pluginConfig: %+v, want the default hello: world", got)
	}
}

func TestRespondBadConfig(t *testing.T) {
	got := Respond(`{"responseHeaders":[{"name":"x a","value":"1"}]}`, [][2]string{{":status", "200"}})
	if !strings.Contains(got.StartError, "meshops plugin: invalid pluginConfig: responseHeaders[0].name") {
		t.Errorf("StartError = %q", got.StartError)
	}
	if !reflect.DeepEqual(got.Headers, [][2]string{{":status", "200"}}) {
		t.Errorf("headers = %q, want the upstream ones unchanged", got.Headers)
	}
}
