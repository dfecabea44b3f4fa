// Package argocd is Argo CD's Kustomize engine: what its repo-server renders
// of an Application source that applies a directory of the repository with
// Kustomize or as plain manifests. The source's kustomize: options become
// the `kustomize edit` commands the repo-server runs before `kustomize
// build` (with the Kustomize CLI's options, validate/render/kustomize), and
// the Application's destination namespace is given to the namespaced
// resources without one, as Argo CD does when it syncs.
package argocd

import (
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/kustomize/v5/commands/edit"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

// argoEdit is one `kustomize edit` command line Argo CD's repo-server runs.
type argoEdit []string

// argoEdits lists, in Argo CD's order (util/kustomize/kustomize.go, Build),
// the `kustomize edit` commands its repo-server runs in the source path
// before `kustomize build`: nameprefix, namesuffix, images, replicas,
// labels, annotations, namespace. Patches and components follow, edited by
// argoKustomization. Argo CD substitutes its build environment
// (${ARGOCD_APP_NAME}, ...) into images and labels; the validator knows the
// Application's name and namespace only.
func argoEdits(e *render.EntryPoint) ([]argoEdit, error) {
	k := e.Argo
	env := strings.NewReplacer("${ARGOCD_APP_NAME}", e.Name, "$ARGOCD_APP_NAME", e.Name,
		"${ARGOCD_APP_NAMESPACE}", e.Namespace, "$ARGOCD_APP_NAMESPACE", e.Namespace)
	var out []argoEdit
	if k.NamePrefix != "" {
		out = append(out, argoEdit{"set", "nameprefix", "--", k.NamePrefix})
	}
	if k.NameSuffix != "" {
		out = append(out, argoEdit{"set", "namesuffix", "--", k.NameSuffix})
	}
	if len(k.Images) > 0 {
		cmd := argoEdit{"set", "image"}
		for _, img := range k.Images {
			cmd = append(cmd, env.Replace(img))
		}
		out = append(out, cmd)
	}
	if len(k.Replicas) > 0 {
		cmd := argoEdit{"set", "replicas"}
		for _, r := range k.Replicas {
			count := r.Count.IntValue()
			if r.Count.Type == intstr.String {
				n, err := strconv.Atoi(r.Count.StrVal)
				if err != nil {
					return nil, fmt.Errorf("expected integer value for count. Received: %s", r.Count.StrVal)
				}
				count = n
			}
			cmd = append(cmd, fmt.Sprintf("%s=%d", r.Name, count))
		}
		out = append(out, cmd)
	}
	if len(k.CommonLabels) > 0 {
		cmd := argoEdit{"add", "label"}
		if k.ForceCommonLabels {
			cmd = append(cmd, "--force")
		}
		if k.LabelWithoutSelector {
			cmd = append(cmd, "--without-selector")
		}
		if k.LabelIncludeTemplates {
			cmd = append(cmd, "--include-templates")
		}
		for _, name := range slices.Sorted(maps.Keys(k.CommonLabels)) {
			cmd = append(cmd, name+":"+env.Replace(k.CommonLabels[name]))
		}
		out = append(out, cmd)
	}
	if len(k.CommonAnnotations) > 0 {
		cmd := argoEdit{"add", "annotation"}
		if k.ForceCommonAnnotations {
			cmd = append(cmd, "--force")
		}
		for _, name := range slices.Sorted(maps.Keys(k.CommonAnnotations)) {
			v := k.CommonAnnotations[name]
			if k.CommonAnnotationsEnvsubst {
				v = env.Replace(v)
			}
			cmd = append(cmd, name+":"+v)
		}
		out = append(out, cmd)
	}
	if k.Namespace != "" {
		out = append(out, argoEdit{"set", "namespace", "--", k.Namespace})
	}
	return out, nil
}

// argoKustomization returns the kustomization file Argo CD would build for
// an Application with kustomize options: the path's own file, edited by
// kustomize's own `edit` commands (sigs.k8s.io/kustomize/kustomize/v5, run
// in memory), then the Application's patches appended to patches: and its
// components added as `kustomize edit add component` adds them.
func argoKustomization(t *render.Tree, e *render.EntryPoint) (name string, data []byte, err error) {
	kfile := render.KustomizationFile(t, e.Path)
	if kfile == "" {
		return "", nil, fmt.Errorf("%s has no kustomization file, so Argo CD treats it as a directory of plain manifests and its kustomize options do nothing", e.Path)
	}
	orig, err := t.ReadFile(kfile)
	if err != nil {
		return "", nil, err
	}
	name = path.Base(kfile)
	edits, err := argoEdits(e)
	if err != nil {
		return "", nil, err
	}
	fsys := filesys.MakeFsInMemory()
	if err := fsys.WriteFile(name, orig); err != nil {
		return "", nil, err
	}
	pvd := provider.NewDefaultDepProvider()
	for _, args := range edits {
		cmd := edit.NewCmdEdit(fsys, pvd.GetFieldValidator(), pvd.GetResourceFactory(), io.Discard)
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		for _, sub := range cmd.Commands() {
			sub.SilenceUsage, sub.SilenceErrors = true, true
		}
		if err := cmd.Execute(); err != nil {
			return "", nil, fmt.Errorf("kustomize edit %s: %v", strings.Join(args, " "), err)
		}
	}
	data, err = fsys.ReadFile(name)
	if err != nil {
		return "", nil, err
	}
	k := e.Argo
	if len(k.Patches) == 0 && len(k.Components) == 0 {
		return name, data, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return "", nil, fmt.Errorf("failed to unmarshal kustomization.yaml: %w", err)
	}
	if len(k.Patches) > 0 {
		patches, ok := m["patches"].([]any)
		if m["patches"] != nil && !ok {
			return "", nil, fmt.Errorf("expected 'patches' field in kustomization.yaml to be []any, but got %T", m["patches"])
		}
		for _, p := range k.Patches {
			patches = append(patches, p)
		}
		m["patches"] = patches
	}
	if len(k.Components) > 0 {
		existing, _ := m["components"].([]any)
		for _, c := range k.Components {
			target := path.Clean(path.Join(e.Path, c))
			if !t.Exists(target) {
				if k.IgnoreMissingComponents {
					continue
				}
				// kustomize edit add component: a pattern that matches no
				// file and does not load as a directory fails the command.
				return "", nil, fmt.Errorf("kustomize edit add component %s: %s: no such file or directory", c, target)
			}
			dup := false
			for _, x := range existing {
				if x == c {
					dup = true
				}
			}
			if !dup {
				existing = append(existing, c)
			}
		}
		m["components"] = existing
	}
	data, err = yaml.Marshal(m)
	return name, data, err
}

// Prepare prepares an Argo CD entry point's target. Without kustomize
// options it is the path itself, built as `kustomize build` would (Argo CD
// runs the kustomize CLI with its default load restrictions); with them, a
// copy of the path beside it holds the edited kustomization. It writes to
// the tree: call it before any build starts. n numbers the copy.
func Prepare(t *render.Tree, e *render.EntryPoint, n int) (render.Target, error) {
	tg := render.Target{Kind: render.ArgoCD, Dir: e.Path, Entry: e, Generated: render.KustomizationFile(t, e.Path) == ""}
	fail := func(err error) (render.Target, error) { return tg, &render.Error{Target: tg, Err: err} }
	if e.Path == "." || !t.IsDir(e.Path) {
		return fail(fmt.Errorf("app path does not exist: %s", e.Path))
	}
	if !e.HasOptions() {
		custom, err := kustomize.Prepare(t, tg)
		tg.SetCustomSchema(custom)
		return tg, err
	}
	name, data, err := argoKustomization(t, e)
	if err != nil {
		return fail(err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		return fail(err)
	}
	bm, _ := k["buildMetadata"].([]any)
	k["buildMetadata"] = append(bm, "originAnnotations")
	if data, err = yaml.Marshal(k); err != nil {
		return fail(err)
	}
	shadow, err := t.Shadow(e.Path, "argocd", n, name, data)
	if err != nil {
		return fail(err)
	}
	tg.BuildDir = shadow
	custom, err := kustomize.CheckSources(t, shadow)
	if err != nil {
		return fail(err)
	}
	tg.SetCustomSchema(custom)
	return tg, nil
}

// Build builds a target Prepare prepared as Argo CD's repo-server does,
// `kustomize build` with the CLI's options, and gives its resources the
// Application's destination namespace.
func Build(t *render.Tree, target render.Target) (*render.Result, error) {
	return kustomize.Builder{Options: kustomize.Options(), PostBuild: func(res *render.Result) error {
		argoDestination(res)
		return nil
	}}.Build(t, target)
}

// argoDestination gives the namespaced resources without a namespace the
// Application's spec.destination.namespace, as Argo CD does when it syncs.
func argoDestination(res *render.Result) {
	spec, _ := res.Target.Entry.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	ns, _ := dest["namespace"].(string)
	if ns == "" {
		return
	}
	for _, r := range res.Resources.Resources() {
		if r.GetNamespace() == "" && !render.ClusterScoped(r.GetKind()) {
			_ = r.SetNamespace(ns)
			res.MarkNamespaced()
		}
	}
}
