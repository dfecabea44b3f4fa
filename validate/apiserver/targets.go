package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"meshops.dev/meshops/validate/index"
)

// Refusal is one object of one target that the server refused in one mode.
type Refusal struct {
	Target string
	// File and Line are where the object is declared.
	File string
	Line int
	// Resource names the object as the validator's findings do.
	Resource string
	Mode     Mode
	Err      error
}

func (r Refusal) String() string {
	where := r.File
	if r.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, r.Line)
	}
	return fmt.Sprintf("[%s] %s (%s): %s: %s", r.Target, where, r.Resource, r.Mode, strings.Join(strings.Fields(r.Err.Error()), " "))
}

// CheckTarget dry-runs every object of a rendered target in every mode. With
// createNamespaces (a throw-away server) the namespaces are created first;
// on a real cluster they are not, and an object whose namespace does not
// exist yet is refused as the server refuses it (NotFound).
func (c *Client) CheckTarget(ctx context.Context, ix *index.Index, createNamespaces bool) ([]Refusal, error) {
	objs := make([]*unstructured.Unstructured, len(ix.Objects))
	for i, o := range ix.Objects {
		objs[i] = &unstructured.Unstructured{Object: o.Content}
	}
	if createNamespaces {
		if err := c.EnsureNamespaces(ctx, c.Namespaces(objs)); err != nil {
			return nil, err
		}
	}
	var out []Refusal
	for i, o := range ix.Objects {
		for _, mode := range Modes {
			err := c.DryRun(ctx, objs[i], mode)
			if err == nil {
				continue
			}
			var te *TransportError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("%s %s: %w", ix.Target.Dir, o, err)
			}
			out = append(out, Refusal{Target: ix.Target.Dir, File: o.Source, Line: ix.Line(o.Source, o), Resource: o.String(), Mode: mode, Err: err})
		}
	}
	return out, nil
}

// MissingNamespace reports whether the server refused an object because its
// namespace does not exist.
func MissingNamespace(err error) bool {
	return apierrors.IsNotFound(err) && strings.Contains(err.Error(), "namespaces")
}
