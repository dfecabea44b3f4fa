package check

import (
	"meshops.dev/meshops/validate/index"
	"strings"

	"meshops.dev/meshops/validate/render"
)

// FluxVariables reports Flux postBuild variables nothing defines.
var FluxVariables = catalogued("GO005")

func fluxVariables(ix *index.Index, env *Env) []Finding {
	c := FluxVariables
	e := ix.Target.Entry
	if e == nil || e.Engine != render.Flux {
		return nil
	}
	// The place to define a variable: the entry point's postBuild.
	line := e.Line
	if env.Tree != nil {
		if data, err := env.Tree.ReadFile(e.File); err == nil {
			line = keyLine(data, e.Line, "spec", "postBuild")
		}
	}
	var out []Finding
	for _, u := range ix.Render().Undefined {
		o := ix.Object(u.Resource)
		if o == nil {
			continue
		}
		f := c.finding(ix, o, "${%s} is not defined by %s's postBuild (substitute, substituteFrom): Flux substitutes \"\"; define it or give it a default (${%s:=value})",
			strings.Join(u.Names, "}, ${"), e.Kind+" "+e.Namespace+"/"+e.Name, u.Names[0])
		f.File, f.Line = e.File, line
		out = append(out, f)
	}
	return out
}

func init() {
	FluxVariables.Target = fluxVariables
}
