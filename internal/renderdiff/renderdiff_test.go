package renderdiff

import (
	"strings"
	"testing"
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
