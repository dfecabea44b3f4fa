package render

// ArgoApplication is an Argo CD Application under clusters/, as declared or
// as an ApplicationSet generates it. Unlike EntryPoints, which keeps only the
// sources that apply a directory of this repository, it keeps every source,
// Helm charts included.
type ArgoApplication struct {
	// File and Line locate the Application (for a generated one, its
	// ApplicationSet).
	File string
	Line int
	// Cluster is the folder of clusters/ it lives in ("clusters/dev").
	Cluster string
	// Object is the Application as declared (generated, for an
	// ApplicationSet's).
	Object map[string]any
	// GeneratedBy names the ApplicationSet that generated it, "" otherwise.
	GeneratedBy string
}

// ArgoApplications lists the Argo CD Applications the repository's layout
// declares (the documents scanLayout reads: clusters/, or the root entry
// points' folders, and the paths entry points render), ApplicationSets
// expanded as EntryPoints expands them, in the order they were found.
func ArgoApplications(t *Tree) ([]ArgoApplication, error) {
	l, err := scanLayout(t)
	if err != nil {
		return nil, err
	}
	docs := l.docs
	var out []ArgoApplication
	for _, d := range docs {
		apiVersion, _ := d.obj["apiVersion"].(string)
		kind, _ := d.obj["kind"].(string)
		if groupOf(apiVersion) != "argoproj.io" {
			continue
		}
		switch kind {
		case "Application":
			out = append(out, ArgoApplication{File: d.file, Line: d.line, Cluster: d.cluster, Object: d.obj})
		case "ApplicationSet":
			apps, err := expandApplicationSet(t, d, docs)
			if err != nil {
				return nil, err
			}
			for _, app := range apps {
				out = append(out, ArgoApplication{File: d.file, Line: d.line, Cluster: d.cluster, Object: app,
					GeneratedBy: "ApplicationSet " + metaString(d.obj, "namespace") + "/" + metaString(d.obj, "name")})
			}
		}
	}
	return out, nil
}

// ClusterObject is an object the repository declares where its entry points
// live (the documents scanLayout reads, layout.go), with the cluster folder it
// belongs to: what an engine reads where the real one asks its cluster's API
// server (Flux's GitRepository, the ConfigMaps and Secrets of
// postBuild.substituteFrom).
type ClusterObject struct {
	// Cluster is the folder of clusters/ it lives in ("clusters/dev"), or
	// the folder of the root entry point whose path renders it.
	Cluster string
	// Object is the object as declared.
	Object map[string]any
}

// Name is the object's metadata.name.
func (o ClusterObject) Name() string { return metaString(o.Object, "name") }

// Namespace is the object's metadata.namespace.
func (o ClusterObject) Namespace() string { return metaString(o.Object, "namespace") }

// Group is the API group of the object's apiVersion, "" for the core group.
func (o ClusterObject) Group() string {
	apiVersion, _ := o.Object["apiVersion"].(string)
	return groupOf(apiVersion)
}

// ClusterObjects lists the objects the repository's layout declares, in the
// order they were found.
func ClusterObjects(t *Tree) ([]ClusterObject, error) {
	l, err := scanLayout(t)
	if err != nil {
		return nil, err
	}
	out := make([]ClusterObject, len(l.docs))
	for i, d := range l.docs {
		out[i] = ClusterObject{Cluster: d.cluster, Object: d.obj}
	}
	return out, nil
}
