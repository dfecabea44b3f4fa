package check

import (
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"meshops.dev/meshops/validate/index"
)

// MetadataFields catches fields under metadata that ObjectMeta does not have.
var MetadataFields = catalogued("K8S006")

func init() { MetadataFields.Target = metadataFields }

// objectMetaFields are the JSON names of metav1.ObjectMeta's fields, as the
// API server decodes them.
func objectMetaFields() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(metav1.ObjectMeta{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

func metadataFields(ix *index.Index, _ *Env) []Finding {
	c := MetadataFields
	known := objectMetaFields()
	var out []Finding
	for _, o := range ix.Objects {
		meta, _ := o.Content["metadata"].(map[string]any)
		var unknown []string
		for k := range meta {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			hint := ""
			switch k {
			case "spec", "data", "stringData", "status", "rules", "subsets":
				hint = "; is it indented one level too deep? (" + k + ": belongs at the top level)"
			}
			out = append(out, c.findingAt(ix, o, []string{"metadata", k},
				"metadata.%s is not a field of ObjectMeta: the API server drops it or, with strict field validation, rejects the object%s", k, hint))
		}
	}
	return out
}
