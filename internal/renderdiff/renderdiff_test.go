package renderdiff

import (
	"strings"
	"testing"

	"meshops.dev/meshops/validate/render"
)

func TestFieldChanges(t *testing.T) {
	old := "kind: Deployment\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - image: nginx:1.27.2\n        name: nginx\n"
	cur := "kind: Deployment\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - image: nginx:1.27.3\n        name: nginx\n      - image: envoy:1\n        name: proxy\n"
	got := fieldChanges(old, cur)
	var lines []string
	for _, c := range got {
		lines = append(lines, c.Path+" "+c.Old+" -> "+c.New)
	}
	want := []string{
		"spec.replicas 1 -> 2",
		"spec.template.spec.containers[0].image nginx:1.27.2 -> nginx:1.27.3",
		"spec.template.spec.containers[1].image (none) -> envoy:1",
		"spec.template.spec.containers[1].name (none) -> proxy",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		env  Env
		want string
	}{
		{Env{Dir: "overlays/dev"}, "overlays/dev: no changes"},
		{Env{Dir: "overlays/qa", Added: true, Resources: []Resource{{ID: "Service blog/blog", Added: true}}}, "overlays/qa: 0 changed, 1 added, 0 removed (new environment)"},
		{Env{Dir: "overlays/dev", Resources: []Resource{{ID: "a"}, {ID: "b", Removed: true}}}, "overlays/dev: 1 changed, 0 added, 1 removed"},
	}
	for _, tt := range tests {
		if got := summary(tt.env); got != tt.want {
			t.Errorf("summary = %q, want %q", got, tt.want)
		}
	}
}

// TestCompareGatewayAPI: a Gateway API route's hostname change is a field
// change of that HTTPRoute.
func TestCompareGatewayAPI(t *testing.T) {
	const fixture = "../../validate/mesh/testdata/gatewayapi"
	base, err := render.LoadDir(fixture)
	if err != nil {
		t.Fatal(err)
	}
	head, err := render.LoadDir(fixture)
	if err != nil {
		t.Fatal(err)
	}
	data, err := head.ReadFile("base/httproute.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := head.Add("base/httproute.yaml", []byte(strings.Replace(string(data), "- shop.acme.test", "- store.acme.test", 1))); err != nil {
		t.Fatal(err)
	}
	envs, err := Compare(base, head)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range envs {
		for _, r := range e.Resources {
			for _, c := range r.Changes {
				got = append(got, e.Dir+": "+r.ID+" "+c.Path+" "+c.Old+" -> "+c.New)
			}
		}
	}
	want := []string{"overlays/dev: HTTPRoute edge/shop spec.hostnames[0] shop.acme.test -> store.acme.test"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
