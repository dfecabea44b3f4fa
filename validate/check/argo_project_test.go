package check

import "testing"

// The cases are Argo CD's own (pkg/apis/application/v1alpha1/types_test.go,
// TestAppProject_IsSourcePermitted and TestAppProject_IsDestinationPermitted).
func TestArgoProjectRules(t *testing.T) {
	for _, tt := range []struct {
		repos []string
		url   string
		want  bool
	}{
		{[]string{"*"}, "https://github.com/argoproj/test.git", true},
		{[]string{"https://github.com/argoproj/*"}, "https://github.com/argoproj/argo-cd.git", true},
		{[]string{"https://github.com/argoproj/*"}, "https://github.com/argoproj/sub/argo-cd.git", false},
		{[]string{"https://github.com/argoproj/**"}, "https://github.com/argoproj/sub/argo-cd.git", true},
		{[]string{"https://github.com/argoproj/test.git"}, "https://github.com/ARGOPROJ/test", true},
		{[]string{"*", "!https://github.com/argoproj/secret"}, "https://github.com/argoproj/secret.git", false},
		{[]string{"ssh://git@git.example.com/platform/*"}, "git@git.example.com:platform/edge.git", true},
		{nil, "https://github.com/argoproj/test.git", false},
	} {
		if got := sourcePermitted(tt.repos, tt.url); got != tt.want {
			t.Errorf("sourcePermitted(%v, %s) = %v, want %v", tt.repos, tt.url, got, tt.want)
		}
	}
	for _, tt := range []struct {
		items []argoDest
		dst   argoDest
		want  bool
	}{
		{[]argoDest{{Server: "*", Namespace: "*"}}, argoDest{Server: "https://kubernetes.default.svc", Namespace: "blog"}, true},
		{[]argoDest{{Server: "https://kubernetes.default.svc", Namespace: "web"}}, argoDest{Server: "https://kubernetes.default.svc", Namespace: "blog"}, false},
		{[]argoDest{{Server: "*", Namespace: "blog*"}}, argoDest{Server: "https://kubernetes.default.svc", Namespace: "blog-dev"}, true},
		{[]argoDest{{Server: "*", Namespace: "*"}, {Server: "*", Namespace: "!kube-system"}}, argoDest{Server: "https://x", Namespace: "kube-system"}, false},
		{[]argoDest{{Name: "in-cluster", Namespace: "*"}}, argoDest{Server: "https://kubernetes.default.svc", Name: "in-cluster", Namespace: "blog"}, true},
	} {
		if got := destinationMatched(tt.items, tt.dst); got != tt.want {
			t.Errorf("destinationMatched(%v, %v) = %v, want %v", tt.items, tt.dst, got, tt.want)
		}
	}
	spec := map[string]any{"clusterResourceWhitelist": []any{map[string]any{"group": "", "kind": "Namespace"}}}
	if !kindPermitted(spec, "", "Namespace", "blog", false) || kindPermitted(spec, "rbac.authorization.k8s.io", "ClusterRole", "x", false) {
		t.Error("clusterResourceWhitelist of Namespace")
	}
	if kindPermitted(map[string]any{}, "", "Namespace", "blog", false) {
		t.Error("a project without clusterResourceWhitelist permits no cluster-scoped kind")
	}
	if !kindPermitted(map[string]any{}, "apps", "Deployment", "blog", true) {
		t.Error("a project without namespaceResourceWhitelist permits every namespaced kind")
	}
}
