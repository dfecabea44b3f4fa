// Package render is the validator's model of what the GitOps engines
// render, offline, exactly as they would: the repository in memory, the
// targets and entry points its layout declares, and one rendered target.
//
// A run goes
//
//	load → entry points → an engine per entry point → Result
//
// where
//
//   - load: LoadDir copies a work tree into a Tree (every file git does not
//     ignore, whatever its name: namefs.go encodes what Kustomize's in-memory
//     file system refuses), LoadGit a revision from git's object store;
//   - entry points: Discover lists the targets the layout gives
//     (overlays/<env>, the folders of clusters/ or of root entry points),
//     EntryPoints the Flux Kustomizations and Argo CD Applications that apply
//     a directory of the repository (ApplicationSets expanded, app-of-apps
//     followed: layout.go, appset.go), HelmEntryPoints the Argo CD sources
//     that install a chart;
//   - an engine per entry point: the entry point chooses it (EntryPoint.Engine,
//     Target.Kind); an overlay or a cluster folder is rendered by the
//     Kustomize CLI's. An engine prepares the target first, writing in-memory
//     kustomizations into the tree (so every target is prepared before any
//     is built), then builds it, reading the tree only (so builds run
//     concurrently);
//   - Result: the rendered resources, each with the repository file that
//     declared it (Source) and, for a field, the file to edit to change it
//     (FieldSource, ImageSource, InlinePatchLine: provenance.go).
//
// The engines are packages of their own, each importing this one:
//
//   - validate/render/kustomize: the Kustomize CLI (`kustomize build`), for
//     overlays, cluster folders and the hidden baselines; its source checks,
//     and the Builder the two engines below run Kustomize with;
//   - validate/render/flux: Flux's Kustomize (kustomize-controller): the
//     source-controller artifact, the kustomization Flux's Generator writes,
//     postBuild variable substitution;
//   - validate/render/argocd: Argo CD's Kustomize (the repo-server): the
//     Application's kustomize options as `kustomize edit` commands, its
//     destination namespace;
//   - validate/render/helm: Flux's Helm (helm-controller, a HelmRelease) and
//     Argo CD's Helm (`helm template` of an Application's Helm source);
//   - validate/render/engine: builds a prepared target with the engine its
//     Kind names (none of the engines may import the others).
package render
